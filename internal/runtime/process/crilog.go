package process

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The container log is in the CRI format that the kubelet reads:
//
//	2016-10-06T00:17:09.669794202Z stdout F a whole line
//	2016-10-06T00:17:09.669794202Z stderr P the first part of a long line
//
// one entry per line of output: the time, the stream, F for a full line or P
// for a partial one (the rest follows in the next entries), and the text
// without its newline. The log file rotates by size: the full file is renamed
// to <path>.<20060102-150405> (kubelet's naming) and a new one begun; only
// the newest rotated files are kept.

const (
	// maxLogLine is the longest entry written; longer lines are split into
	// partial entries (containerd uses the same default).
	maxLogLine = 16 * 1024
	// rotatedTime is the time layout of rotated files' suffix.
	rotatedTime = "20060102-150405"
)

// logFile is a CRI log file shared by a container's stdout and stderr.
type logFile struct {
	mu       sync.Mutex
	path     string
	f        *os.File
	size     int64
	maxSize  int64 // rotate when the file reaches this size; 0: never
	maxFiles int   // files kept, counting the live one
	now      func() time.Time
}

// openLog opens (appending to) the log at path.
func openLog(path string, maxSize int64, maxFiles int) (*logFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("process: create log directory: %w", err)
	}
	l := &logFile{path: path, maxSize: maxSize, maxFiles: max(maxFiles, 1), now: time.Now}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *logFile) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("process: open log: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("process: open log: %w", err)
	}
	l.f, l.size = f, st.Size()
	return nil
}

// entry writes one log entry.
func (l *logFile) entry(stream string, partial bool, text []byte) error {
	tag := "F"
	if partial {
		tag = "P"
	}
	var b bytes.Buffer
	b.Grow(len(text) + 48)
	b.WriteString(l.now().UTC().Format(time.RFC3339Nano))
	b.WriteByte(' ')
	b.WriteString(stream)
	b.WriteByte(' ')
	b.WriteString(tag)
	b.WriteByte(' ')
	b.Write(text)
	b.WriteByte('\n')

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return os.ErrClosed
	}
	n, err := l.f.Write(b.Bytes())
	l.size += int64(n)
	if err != nil {
		return fmt.Errorf("process: write log: %w", err)
	}
	if l.maxSize > 0 && l.size >= l.maxSize {
		return l.rotate()
	}
	return nil
}

// rotate renames the live file and starts a new one; l.mu is held.
func (l *logFile) rotate() error {
	l.f.Close()
	l.f = nil
	name := l.path + "." + l.now().Format(rotatedTime)
	// Two rotations within a second: keep both, in order.
	for i := 1; exists(name); i++ {
		name = fmt.Sprintf("%s.%s.%d", l.path, l.now().Format(rotatedTime), i)
	}
	if err := os.Rename(l.path, name); err != nil {
		return fmt.Errorf("process: rotate log: %w", err)
	}
	l.prune()
	return l.open()
}

// prune deletes the oldest rotated files beyond maxFiles-1.
func (l *logFile) prune() {
	rotated := rotatedLogs(l.path)
	for len(rotated) > l.maxFiles-1 {
		os.Remove(rotated[0])
		rotated = rotated[1:]
	}
}

// rotatedLogs lists the rotated files of the log at path, oldest first.
func rotatedLogs(path string) []string {
	names, _ := filepath.Glob(path + ".[0-9]*")
	key := func(name string) (string, int) {
		stamp, count, _ := strings.Cut(strings.TrimPrefix(name, path+"."), ".")
		n, _ := strconv.Atoi(count)
		return stamp, n
	}
	slices.SortFunc(names, func(a, b string) int {
		sa, na := key(a)
		sb, nb := key(b)
		return cmp.Or(strings.Compare(sa, sb), cmp.Compare(na, nb))
	})
	return names
}

func (l *logFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// lineWriter turns one stream's output into log entries. It buffers an
// unfinished line until its newline arrives or it grows to maxLogLine.
type lineWriter struct {
	log    *logFile
	stream string
	buf    []byte
}

// Write logs every complete line in p and keeps the rest.
func (w *lineWriter) Write(p []byte) (int, error) {
	data := p
	if len(w.buf) > 0 {
		w.buf = append(w.buf, p...)
		data = w.buf
	}
	for {
		i := bytes.IndexByte(data, '\n')
		switch {
		case i >= 0 && i <= maxLogLine:
			if err := w.log.entry(w.stream, false, bytes.TrimSuffix(data[:i], []byte("\r"))); err != nil {
				return len(p), err
			}
			data = data[i+1:]
		case len(data) > maxLogLine:
			if err := w.log.entry(w.stream, true, data[:maxLogLine]); err != nil {
				return len(p), err
			}
			data = data[maxLogLine:]
		default:
			// Keep a copy of the unfinished line (none of p, which the
			// caller reuses), sized to it.
			w.buf = append(w.buf[:0:0], data...)
			return len(p), nil
		}
	}
}

// Flush logs an unfinished last line as a full one: the stream has ended.
func (w *lineWriter) Flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	err := w.log.entry(w.stream, false, w.buf)
	w.buf = nil
	return err
}
