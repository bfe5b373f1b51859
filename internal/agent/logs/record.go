package logs

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// The streams a record can belong to.
const (
	stdout = "stdout"
	stderr = "stderr"
)

// record is one line of a CRI log file.
type record struct {
	time    time.Time
	stream  string // stdout or stderr
	partial bool   // tag P: the next record of the stream continues the line
	content []byte // without the line's newline
}

var errFormat = errors.New("logs: not a CRI log line")

// parseRecord reads one line of a CRI log file; the trailing newline is
// optional.
func parseRecord(line []byte) (record, error) {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	ts, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return record{}, fmt.Errorf("%w: %q", errFormat, line)
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return record{}, fmt.Errorf("%w: bad timestamp %q", errFormat, ts)
	}
	stream, rest, ok := bytes.Cut(rest, []byte{' '})
	if !ok || (string(stream) != stdout && string(stream) != stderr) {
		return record{}, fmt.Errorf("%w: bad stream in %q", errFormat, line)
	}
	// The content may be empty, with or without the space before it.
	tags, content, _ := bytes.Cut(rest, []byte{' '})
	tag, _, _ := bytes.Cut(tags, []byte{':'})
	var partial bool
	switch string(tag) {
	case "F":
	case "P":
		partial = true
	default:
		return record{}, fmt.Errorf("%w: bad tag %q", errFormat, tags)
	}
	return record{time: t, stream: string(stream), partial: partial, content: content}, nil
}
