package watchcache

// history is a ring of the latest events, oldest first. It grows as
// events come, up to size, so that quiet resources cost nothing.
type history struct {
	buf   []Event
	size  int
	start int // index of the oldest event
	n     int // events held
}

func newHistory(size int) *history { return &history{size: size} }

// push adds ev and returns the event it pushed out, if the ring was full.
func (h *history) push(ev Event) (Event, bool) {
	if h.n < h.size {
		if h.n == len(h.buf) { // still growing: start is 0
			h.buf = append(h.buf, ev)
		} else {
			h.buf[(h.start+h.n)%len(h.buf)] = ev
		}
		h.n++
		return Event{}, false
	}
	out := h.buf[h.start]
	h.buf[h.start] = ev
	h.start = (h.start + 1) % len(h.buf)
	return out, true
}

// each calls f for every event, oldest first.
func (h *history) each(f func(Event)) {
	for i := 0; i < h.n; i++ {
		f(h.buf[(h.start+i)%len(h.buf)])
	}
}

func (h *history) reset() {
	h.buf, h.start, h.n = nil, 0, 0
}
