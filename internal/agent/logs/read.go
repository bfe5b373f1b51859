package logs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Read writes the log at path to w as o selects. It returns nil at the end
// of the log, or, when following, once the container has stopped and its
// last lines are written; it returns ctx's error if ctx ends first. An
// error opening the log comes before anything is written; once the log is
// open, Read makes an empty write to w, so a caller can commit a response
// before Read starts to wait for lines.
func Read(ctx context.Context, path string, o Options, w io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("logs: %w", err)
	}
	fl := &follower{path: path, f: f}
	defer func() { fl.f.Close() }()
	if o.TailLines != nil {
		start, err := tailStart(f, *o.TailLines, &o)
		if err != nil {
			return err
		}
		if _, err := f.Seek(start, io.SeekStart); err != nil {
			return fmt.Errorf("logs: %w", err)
		}
	}
	fl.br = bufio.NewReader(f)
	if _, err := w.Write(nil); err != nil {
		return err
	}
	err = fl.copy(ctx, newLineWriter(w, &o), &o)
	if errors.Is(err, errLimit) {
		return nil
	}
	return err
}

// follower reads the lines of a log file that may still grow and may be
// replaced by rotation.
type follower struct {
	path    string
	f       *os.File
	br      *bufio.Reader
	pending []byte // an unfinished last line, completed by later reads
}

// copy writes lines until the end of the log, or when following until the
// container stops or ctx ends.
func (fl *follower) copy(ctx context.Context, lw *lineWriter, o *Options) error {
	stopping, rotating := false, false
	for {
		line, err := fl.next()
		if err == nil {
			if err := lw.write(line); err != nil {
				return err
			}
			continue
		}
		if !errors.Is(err, io.EOF) {
			return fmt.Errorf("logs: %w", err)
		}
		switch {
		case rotating:
			// The renamed file is drained: go on with its successor.
			if err := fl.flush(lw); err != nil {
				return err
			}
			if err := fl.reopen(); err != nil {
				return err
			}
			rotating = false
			continue
		case !o.Follow:
			return fl.flush(lw)
		case fl.rotated():
			// Read what was written before the rename, then switch.
			rotating = true
			continue
		case stopping:
			return fl.flush(lw)
		case o.Running != nil && !o.Running(ctx):
			// Read once more to the end: the last lines may have come
			// after this end of file and before the container stopped.
			stopping = true
			continue
		}
		t := time.NewTimer(o.poll())
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// next returns the next whole line, or io.EOF and keeps an unfinished line
// for the next call.
func (fl *follower) next() ([]byte, error) {
	line, err := fl.br.ReadBytes('\n')
	if len(fl.pending) > 0 {
		line, fl.pending = append(fl.pending, line...), nil
	}
	if errors.Is(err, io.EOF) {
		fl.pending = line
	}
	if err != nil {
		return nil, err
	}
	return line, nil
}

// flush writes an unfinished last line that no later write will complete.
func (fl *follower) flush(lw *lineWriter) error {
	if len(fl.pending) == 0 {
		return nil
	}
	line := fl.pending
	fl.pending = nil
	return lw.write(line)
}

// rotated reports whether path now names another file than the one being
// read. While the runtime is between renaming the old file and creating the
// new one, path names nothing and the answer is no.
func (fl *follower) rotated() bool {
	now, err := os.Stat(fl.path)
	if err != nil {
		return false
	}
	reading, err := fl.f.Stat()
	return err == nil && !os.SameFile(now, reading)
}

func (fl *follower) reopen() error {
	f, err := os.Open(fl.path)
	if err != nil {
		return fmt.Errorf("logs: %w", err)
	}
	fl.f.Close()
	fl.f = f
	fl.br.Reset(f)
	return nil
}
