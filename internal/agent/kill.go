package agent

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// gracePeriod is how long a container gets to stop, as the kubelet picks
// it: the pod's deletion grace period once it is being deleted, else the
// probe's terminationGracePeriodSeconds for a probe kill, else the pod's
// terminationGracePeriodSeconds, else 2 s.
func gracePeriod(pod *corev1.Pod, c *corev1.Container, reason killReason) int64 {
	switch {
	case pod.DeletionGracePeriodSeconds != nil:
		return *pod.DeletionGracePeriodSeconds
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		if c != nil {
			if reason == killLiveness && c.LivenessProbe != nil && c.LivenessProbe.TerminationGracePeriodSeconds != nil {
				return *c.LivenessProbe.TerminationGracePeriodSeconds
			}
			if reason == killStartup && c.StartupProbe != nil && c.StartupProbe.TerminationGracePeriodSeconds != nil {
				return *c.StartupProbe.TerminationGracePeriodSeconds
			}
		}
		return *pod.Spec.TerminationGracePeriodSeconds
	}
	return minimumGracePeriodSeconds
}

// killContainer stops one container: a Killing event, the preStop hook
// (within the grace period), then StopContainer with what remains of it
// (2 s at least, unless override forces a period).
func (w *worker) killContainer(ctx context.Context, pod *corev1.Pod, id, name, message string, grace int64, override *int64) {
	a := w.a
	if message == "" {
		message = "Stopping container " + name
	}
	c := findContainer(pod, name)
	if c != nil {
		a.containerEvent(pod, name, corev1.EventTypeNormal, eventKilling, "%s", message)
	}
	if override != nil {
		grace = *override
	}
	if c != nil && c.Lifecycle != nil && c.Lifecycle.PreStop != nil && grace > 0 {
		start := time.Now()
		hookCtx, cancel := context.WithTimeout(ctx, time.Duration(grace)*time.Second)
		_, err := a.prober.RunHook(hookCtx, pod, c, id, c.Lifecycle.PreStop)
		cancel()
		if err != nil {
			a.log.Info("agent: preStop hook failed", "pod", podDescription(pod), "container", name, "err", err)
			a.containerEvent(pod, name, corev1.EventTypeWarning, eventFailedPreStopHook, "PreStopHook failed")
		}
		grace -= int64(time.Since(start).Seconds())
	}
	if override == nil && grace < minimumGracePeriodSeconds {
		grace = minimumGracePeriodSeconds
	}
	w.stopProbe(name)
	if err := a.rt.StopContainer(ctx, id, grace); err != nil && !isNotFound(err) {
		a.log.Warn("agent: stopping a container", "pod", podDescription(pod), "container", name, "err", err)
	}
}

// killAll stops every container of the pod that may run, then its
// sandboxes: the containers (and regular init containers) together, then
// the sidecars one by one in reverse order, each with what remains of the
// grace period, as the kubelet orders termination.
func (w *worker) killAll(ctx context.Context, pod *corev1.Pod, s *podState, grace int64, override *int64) {
	deadline := time.Now().Add(time.Duration(grace) * time.Second)
	remaining := func() int64 {
		return max(int64(time.Until(deadline).Seconds()), 0)
	}
	running := s.running()
	sidecars := map[string]containerState{}
	var wg sync.WaitGroup
	for _, c := range running {
		if spec := findContainer(pod, c.Name); spec != nil && isInit(pod, c.Name) && isSidecar(spec) {
			sidecars[c.Name] = c
			continue
		}
		wg.Add(1)
		go func(c containerState) {
			defer wg.Done()
			w.killContainer(ctx, pod, c.ID, c.Name, "", grace, override)
		}(c)
	}
	wg.Wait()
	for i := len(pod.Spec.InitContainers) - 1; i >= 0; i-- {
		if c, ok := sidecars[pod.Spec.InitContainers[i].Name]; ok {
			w.killContainer(ctx, pod, c.ID, c.Name, "", remaining(), override)
		}
	}
	for _, sb := range s.Sandboxes {
		if !sb.Ready {
			continue
		}
		if err := w.a.rt.StopPodSandbox(ctx, sb.ID); err != nil && !isNotFound(err) {
			w.a.log.Warn("agent: stopping a sandbox", "pod", podDescription(pod), "err", err)
		}
	}
}

// syncTerminating stops a pod for good and follows it to its end: stop
// every container and the sandbox (once), write the final status, clean
// up its volumes, delete a deleted pod's object (the last step of graceful
// deletion), and once the pod is gone from its source remove its
// containers, sandboxes and logs. It reports whether the worker is done.
func (w *worker) syncTerminating(ctx context.Context, pod *corev1.Pod, removed bool) bool {
	a := w.a
	if !w.stopped {
		w.stopProbes()
		s, err := a.observe(ctx, w)
		if err != nil {
			w.wakeAt(time.Now().Add(a.o.RelistPeriod))
			return false
		}
		var override *int64
		if removed && !w.static && pod.DeletionTimestamp == nil {
			one := int64(1) // force-deleted: no grace left
			override = &one
		}
		if s.anyRunning() {
			w.killAll(ctx, pod, s, gracePeriod(pod, nil, killOther), override)
		}
		w.stopped = true
	}
	s, err := a.observe(ctx, w)
	if err != nil {
		w.wakeAt(time.Now().Add(a.o.RelistPeriod))
		return false
	}
	w.setState(s)
	if s.anyRunning() {
		// Something still runs (a restart raced the stop): stop it again.
		w.stopped = false
		w.wakeAt(time.Now().Add(a.o.RelistPeriod))
		return false
	}
	if !removed {
		w.writeStatus(ctx, pod, s, true)
	}
	if !w.cleaned {
		if err := a.volumes.Cleanup(w.uid); err != nil {
			a.log.Warn("agent: cleaning up volumes", "pod", podDescription(pod), "err", err)
		} else {
			w.cleaned = true
		}
	}
	if removed {
		a.removePod(ctx, w.uid, w.logDir)
		return true
	}
	if pod.DeletionTimestamp != nil && !w.static && !w.deleteSent {
		if err := a.deletePod(ctx, pod); err != nil {
			a.log.Warn("agent: deleting the pod", "pod", podDescription(pod), "err", err)
			w.wakeAt(time.Now().Add(time.Second))
			return false
		}
		w.deleteSent = true
	}
	return false
}
