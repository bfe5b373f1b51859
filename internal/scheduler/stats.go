package scheduler

import "sync/atomic"

// Stats counts what the scheduler has done since it started.
type Stats struct {
	// Attempts counts scheduling cycles.
	Attempts int64
	// Bound counts pods whose binding the API server accepted.
	Bound int64
	// Unschedulable counts cycles that found no node for the pod.
	Unschedulable int64
	// Errors counts cycles and bindings that failed for other reasons.
	Errors int64
	// EventsDropped counts events left out because too many were waiting
	// to be written (see Options.EventQPS).
	EventsDropped int64
}

type counters struct {
	attempts, bound, unschedulable, errors, eventsDropped atomic.Int64
}

// Stats returns the counts so far; safe to call while Run runs.
func (s *Scheduler) Stats() Stats {
	return Stats{
		Attempts:      s.counts.attempts.Load(),
		Bound:         s.counts.bound.Load(),
		Unschedulable: s.counts.unschedulable.Load(),
		Errors:        s.counts.errors.Load(),
		EventsDropped: s.counts.eventsDropped.Load(),
	}
}
