package logs

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Options select what Read writes. The zero value writes the whole log of
// both streams once.
type Options struct {
	// Follow keeps reading what the container writes after the current end
	// of the log, until the context ends or Running reports false.
	Follow bool
	// TailLines, when set, starts that many lines before the end.
	TailLines *int64
	// Since drops records written before it; zero keeps all.
	Since time.Time
	// Timestamps prefixes every line with its RFC 3339 time, as the kubelet
	// does.
	Timestamps bool
	// LimitBytes, when positive, stops after that many bytes (a last line
	// may be cut).
	LimitBytes int64
	// Stream is corev1.LogStreamStdout, corev1.LogStreamStderr, or
	// corev1.LogStreamAll (also the meaning of "").
	Stream string
	// Running reports whether the container still writes the log. While
	// following, Read stops at the end of the log once it reports false.
	// Nil means the container runs until the context ends.
	Running func(ctx context.Context) bool
	// Poll is how often a following Read looks for new lines and for
	// rotation; zero means 100ms.
	Poll time.Duration
}

// FromPodLogOptions turns the API's log options into Options, with
// sinceSeconds counted back from now. Running and Poll are left for the
// caller.
func FromPodLogOptions(p *corev1.PodLogOptions, now time.Time) Options {
	o := Options{Follow: p.Follow, TailLines: p.TailLines, Timestamps: p.Timestamps}
	if p.LimitBytes != nil {
		o.LimitBytes = *p.LimitBytes
	}
	if p.SinceSeconds != nil {
		o.Since = now.Add(-time.Duration(*p.SinceSeconds) * time.Second)
	}
	if p.SinceTime != nil && p.SinceTime.After(o.Since) {
		o.Since = p.SinceTime.Time
	}
	if p.Stream != nil {
		o.Stream = *p.Stream
	}
	return o
}

// selects reports whether the options keep records of stream.
func (o *Options) selects(stream string) bool {
	switch o.Stream {
	case corev1.LogStreamStdout:
		return stream == stdout
	case corev1.LogStreamStderr:
		return stream == stderr
	}
	return true
}

// keeps reports whether the options keep r.
func (o *Options) keeps(r record) bool {
	return o.selects(r.stream) && !r.time.Before(o.Since)
}

func (o *Options) poll() time.Duration {
	if o.Poll > 0 {
		return o.Poll
	}
	return 100 * time.Millisecond
}
