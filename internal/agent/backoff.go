package agent

import "time"

// backoff is the crash-loop back-off of one container, as the kubelet keeps
// it: the first restart is immediate, then the delay starts at the base and
// doubles up to the cap. A container that ran for longer than twice the cap
// since the last restart starts over from the base.
//
// The decisions are pure functions of the entry, the time the container
// last finished and now, so tests replay them without a clock.
type backoff struct {
	// Delay is the current back-off, zero before the first restart.
	Delay time.Duration
	// Updated is when the container was last restarted.
	Updated time.Time
}

// backoffPolicy holds the base and the cap.
type backoffPolicy struct {
	Base, Max time.Duration
}

// expired reports whether the entry is stale at finishedAt: the container
// ran for longer than twice the cap since its last restart.
func (p backoffPolicy) expired(b *backoff, finishedAt time.Time) bool {
	return b == nil || finishedAt.Sub(b.Updated) > 2*p.Max
}

// waiting reports whether a container that finished at finishedAt must
// still wait before its next start, and until when.
func (p backoffPolicy) waiting(b *backoff, finishedAt, now time.Time) (bool, time.Time) {
	if p.expired(b, finishedAt) {
		return false, time.Time{}
	}
	until := finishedAt.Add(b.Delay)
	return now.Before(until), until
}

// next records a restart at now and returns the new entry.
func (p backoffPolicy) next(b *backoff, finishedAt, now time.Time) *backoff {
	if p.expired(b, finishedAt) {
		return &backoff{Delay: p.Base, Updated: now}
	}
	return &backoff{Delay: min(2*b.Delay, p.Max), Updated: now}
}

// gate decides whether a container that last finished at finishedAt may
// start now. If so it returns the entry to keep for the start; if not,
// until when it must wait.
func (p backoffPolicy) gate(b *backoff, finishedAt, now time.Time) (bool, *backoff, time.Time) {
	if wait, until := p.waiting(b, finishedAt, now); wait {
		return false, b, until
	}
	return true, p.next(b, finishedAt, now), time.Time{}
}
