package watchcache

import "testing"

func TestHistoryRing(t *testing.T) {
	h := newHistory(3)
	for rev := int64(1); rev <= 5; rev++ {
		out, full := h.push(Event{Rev: rev})
		if full != (rev > 3) || (full && out.Rev != rev-3) {
			t.Fatalf("push %d: pushed out %d (full=%v)", rev, out.Rev, full)
		}
	}
	var got []int64
	h.each(func(ev Event) { got = append(got, ev.Rev) })
	if len(got) != 3 || got[0] != 3 || got[2] != 5 {
		t.Fatalf("ring holds %v, want [3 4 5]", got)
	}
	h.reset()
	h.each(func(Event) { t.Fatal("event after reset") })
}
