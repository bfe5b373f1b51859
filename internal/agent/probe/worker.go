package probe

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// worker runs one probe of one container in its own goroutine.
type worker struct {
	m         *Manager
	t         *tracked
	key       containerKey
	kind      Kind
	spec      *corev1.Probe
	pod       *corev1.Pod
	c         *corev1.Container
	startedAt time.Time

	last   Result // the previous raw result
	streak int    // how many times in a row last came back
}

// run waits for startup (liveness, readiness) and the initial delay, then
// probes every period until the probe is done or ctx ends.
func (w *worker) run(ctx context.Context) {
	defer w.m.wg.Done()
	unit := w.m.unit()
	if w.kind != Startup {
		select {
		case <-ctx.Done():
			return
		case <-w.t.started:
		}
	}
	delay := time.Until(w.startedAt.Add(time.Duration(w.spec.InitialDelaySeconds) * unit))
	if delay > 0 {
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
	}
	ticker := time.NewTicker(time.Duration(orDefault(w.spec.PeriodSeconds, 10)) * unit)
	defer ticker.Stop()
	for w.probe(ctx, unit) {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// probe runs the probe once and applies the thresholds. It returns false
// when this worker is done: startup succeeded (the container has started),
// or liveness or startup failed (the container will be restarted, and a new
// Start brings new workers).
func (w *worker) probe(ctx context.Context, unit time.Duration) bool {
	result, output, err := w.m.prober.run(ctx, w.pod, w.c, w.t.containerID, w.spec, timeoutOf(w.spec, unit))
	if ctx.Err() != nil {
		return false
	}
	if err != nil {
		return true // the probe could not run: drop the result, as the kubelet does
	}
	u := Update{PodUID: w.key.pod, Container: w.key.name, ContainerID: w.t.containerID, Kind: w.kind, Result: result, Output: output}
	if w.m.Observe != nil {
		w.m.Observe(u)
	}
	if result == w.last {
		w.streak++
	} else {
		w.last, w.streak = result, 1
	}
	if (result == Failure && w.streak < int(orDefault(w.spec.FailureThreshold, 3))) ||
		(result == Success && w.streak < int(orDefault(w.spec.SuccessThreshold, 1))) {
		return true
	}
	w.m.record(ctx, w, u)
	switch {
	case w.kind == Startup && result == Success:
		w.t.markStarted()
		return false
	case (w.kind == Liveness || w.kind == Startup) && result == Failure:
		return false
	}
	return true
}
