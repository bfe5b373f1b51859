package logs

import (
	"errors"
	"io"
	"time"
)

// errLimit ends a Read that has written LimitBytes.
var errLimit = errors.New("logs: byte limit reached")

// lineWriter turns records back into the container's output.
type lineWriter struct {
	w       io.Writer
	o       *Options
	midLine map[string]bool // per stream: the last record written was a fragment
	written int64
	buf     []byte
}

func newLineWriter(w io.Writer, o *Options) *lineWriter {
	return &lineWriter{w: w, o: o, midLine: map[string]bool{}}
}

// write writes one line of the log file if the options keep it. Lines that
// are not CRI records are skipped, as the kubelet does.
func (lw *lineWriter) write(line []byte) error {
	r, err := parseRecord(line)
	if err != nil || !lw.o.keeps(r) {
		return nil
	}
	b := lw.buf[:0]
	if lw.o.Timestamps && !lw.midLine[r.stream] {
		b = r.time.AppendFormat(b, time.RFC3339Nano)
		b = append(b, ' ')
	}
	b = append(b, r.content...)
	if !r.partial {
		b = append(b, '\n')
	}
	lw.buf = b
	lw.midLine[r.stream] = r.partial
	limited := false
	if lw.o.LimitBytes > 0 {
		if left := lw.o.LimitBytes - lw.written; int64(len(b)) >= left {
			b, limited = b[:left], true
		}
	}
	n, err := lw.w.Write(b)
	lw.written += int64(n)
	if err != nil {
		return err
	}
	if limited {
		return errLimit
	}
	return nil
}
