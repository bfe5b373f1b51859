package agent

import (
	"testing"
	"time"
)

// TestBackoff: the first restart is immediate, then each wait doubles from
// the base up to the cap; a run longer than twice the cap starts over.
func TestBackoff(t *testing.T) {
	p := backoffPolicy{Base: 10 * time.Second, Max: 40 * time.Second}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	var b *backoff
	steps := []struct {
		finished, now time.Duration
		start         bool
		delay         time.Duration // the entry's delay after the step
	}{
		{0, 0, true, 10 * time.Second}, // first crash: restart at once
		{1 * time.Second, 2 * time.Second, false, 10 * time.Second},
		{1 * time.Second, 11 * time.Second, true, 20 * time.Second},
		{12 * time.Second, 31 * time.Second, false, 20 * time.Second},
		{12 * time.Second, 32 * time.Second, true, 40 * time.Second},
		{33 * time.Second, 73 * time.Second, true, 40 * time.Second}, // capped
		{74 * time.Second, 80 * time.Second, false, 40 * time.Second},
		// Ran for more than 2×cap since the last restart: start over.
		{73*time.Second + 81*time.Second, 155 * time.Second, true, 10 * time.Second},
	}
	for i, s := range steps {
		ok, next, _ := p.gate(b, at(s.finished), at(s.now))
		if ok != s.start || next.Delay != s.delay {
			t.Fatalf("step %d: start %v with delay %v, want %v with %v", i, ok, next.Delay, s.start, s.delay)
		}
		b = next
	}
}
