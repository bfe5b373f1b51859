package logs

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
)

// tailStart returns the offset in f of the first of the last n lines that
// the options keep. A line that a runtime split into fragments counts once;
// an unfinished last line counts too.
func tailStart(f *os.File, n int64, o *Options) (int64, error) {
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, fmt.Errorf("logs: %w", err)
	}
	if n == 0 {
		return end, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("logs: %w", err)
	}
	var (
		starts  []int64 // offsets of the last n line starts
		midLine = map[string]bool{}
		off     int64
		br      = bufio.NewReader(io.LimitReader(f, end))
	)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: read the rest of it.
			rest, rerr := br.ReadBytes('\n')
			line, err = append(append([]byte(nil), line...), rest...), rerr
		}
		if len(line) > 0 {
			if r, perr := parseRecord(line); perr == nil && o.keeps(r) {
				if !midLine[r.stream] {
					starts = append(starts, off)
					if int64(len(starts)) > n {
						starts = starts[1:]
					}
				}
				midLine[r.stream] = r.partial
			}
			off += int64(len(line))
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("logs: %w", err)
		}
	}
	if int64(len(starts)) < n {
		return 0, nil
	}
	return starts[0], nil
}
