package agent

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// syncPod brings a live pod one step closer to its spec: volumes, then
// the plan decide computes from what the runtime reports, then the status.
func (w *worker) syncPod(ctx context.Context, pod *corev1.Pod) {
	a := w.a
	now := time.Now()
	state, err := a.observe(ctx, w)
	if err != nil {
		a.log.Warn("agent: reading the runtime", "pod", podDescription(pod), "err", err)
		w.wakeAt(now.Add(a.o.RelistPeriod))
		return
	}
	w.setState(state)

	w.mu.Lock()
	start := w.status
	w.mu.Unlock()
	startTime := pod.Status.StartTime
	if start != nil && start.StartTime != nil {
		startTime = start.StartTime
	}
	if deadlineExceeded(pod, startTime, now) {
		w.failReason, w.failMessage = eventDeadlineExceeded, "Pod was active on the node longer than the specified deadline"
		a.podEvent(pod, corev1.EventTypeNormal, eventDeadlineExceeded, "%s", w.failMessage)
		w.terminal = true
		return
	}
	if d := pod.Spec.ActiveDeadlineSeconds; d != nil && startTime != nil {
		w.wakeAt(startTime.Add(time.Duration(*d) * time.Second))
	}

	if !w.setupVolumes(ctx, pod, now) {
		w.writeStatus(ctx, pod, state, false)
		return
	}

	p := decide(pod, state, w.probeView)
	if w.execute(ctx, pod, state, p) {
		if state, err = a.observe(ctx, w); err != nil {
			a.log.Warn("agent: reading the runtime", "pod", podDescription(pod), "err", err)
			return
		}
		w.setState(state)
	}
	w.ensureProbes(pod, state)
	status := w.writeStatus(ctx, pod, state, false)
	if terminalPhase(status.Phase) {
		w.terminal = true
	}
	w.prune(ctx, pod, state)
}

// setupVolumes sets the pod's volumes up on the first sync, and again
// every SyncPeriod to refresh configMap and secret contents. A failure is
// a FailedMount event (once per distinct message) and a retry soon; the
// pod's containers wait in ContainerCreating meanwhile.
func (w *worker) setupVolumes(ctx context.Context, pod *corev1.Pod, now time.Time) bool {
	if len(pod.Spec.Volumes) == 0 {
		return true
	}
	if !w.volumesAt.IsZero() && now.Sub(w.volumesAt) < w.a.o.SyncPeriod {
		return true
	}
	err := w.a.volumes.Setup(ctx, pod)
	if err == nil {
		w.volumesAt, w.mountFailed = now, ""
		return true
	}
	if !w.volumesAt.IsZero() {
		// Already mounted once: keep running with what is there.
		w.a.log.Warn("agent: refreshing volumes", "pod", podDescription(pod), "err", err)
		w.volumesAt = now
		return true
	}
	if msg := mountMessage(err); msg != w.mountFailed {
		w.mountFailed = msg
		w.a.podEvent(pod, corev1.EventTypeWarning, eventFailedMount, "%s", msg)
	}
	w.wakeAt(now.Add(min(w.a.o.BackOffBase, 5*time.Second)))
	return false
}

// setState records the latest observation, for Container and Sandbox.
func (w *worker) setState(s *podState) {
	w.mu.Lock()
	w.state = s
	w.mu.Unlock()
}

// execute carries out a plan and reports whether it changed anything in
// the runtime.
func (w *worker) execute(ctx context.Context, pod *corev1.Pod, s *podState, p plan) bool {
	a := w.a
	acted := false
	if p.CreateSandbox && s.sandbox() != nil {
		a.podEvent(pod, corev1.EventTypeNormal, eventSandboxChanged, "Pod sandbox changed, it will be killed and re-created.")
	}
	if p.KillPod {
		if s.anyRunning() {
			w.killAll(ctx, pod, s, gracePeriod(pod, nil, killOther), nil)
			acted = true
		}
		if p.CreateSandbox {
			// A new sandbox runs the init containers again.
			for _, c := range s.Containers {
				if isInit(pod, c.Name) {
					_ = a.removeContainer(ctx, c.ID)
				}
			}
		}
	} else {
		for _, k := range p.Kill {
			w.killContainer(ctx, pod, k.ID, k.Name, k.Message, gracePeriod(pod, findContainer(pod, k.Name), k.Reason), nil)
			acted = true
		}
	}
	if len(p.StartInit)+len(p.Start) == 0 {
		return acted
	}

	sb := s.sandbox()
	var ips []string
	if sb != nil {
		ips = sb.IPs
	}
	attempt := p.SandboxAttempt
	if p.CreateSandbox {
		id, newIPs, err := w.createSandbox(ctx, pod, attempt)
		if err != nil {
			return true
		}
		sb, ips, acted = &sandboxState{ID: id, Attempt: attempt, Ready: true}, newIPs, true
	}
	withIPs := w.podWithIPs(pod, &podState{Sandboxes: []sandboxState{{IPs: ips}}})
	sbCfg := sandboxConfig(pod, sb.Attempt, w.logDir)
	for _, i := range p.StartInit {
		c := &pod.Spec.InitContainers[i]
		err := w.start(ctx, withIPs, c, sb.ID, sbCfg, s)
		acted = acted || err != errBackOff
		if err != nil && !isSidecar(c) {
			return acted
		}
	}
	for _, i := range p.Start {
		err := w.start(ctx, withIPs, &pod.Spec.Containers[i], sb.ID, sbCfg, s)
		acted = acted || err != errBackOff
	}
	return acted
}

// createSandbox runs a new sandbox and returns its ID and IPs.
func (w *worker) createSandbox(ctx context.Context, pod *corev1.Pod, attempt uint32) (string, []string, error) {
	a := w.a
	if err := os.MkdirAll(w.logDir, 0o755); err != nil {
		a.podEvent(pod, corev1.EventTypeWarning, eventFailedSandbox, "Failed to create pod sandbox: %v", err)
		return "", nil, err
	}
	id, err := a.rt.RunPodSandbox(ctx, sandboxConfig(pod, attempt, w.logDir), "")
	if err != nil {
		a.podEvent(pod, corev1.EventTypeWarning, eventFailedSandbox, "Failed to create pod sandbox: %v", grpcMessage(err))
		w.wakeAt(time.Now().Add(w.a.o.BackOffBase))
		return "", nil, err
	}
	st, err := a.rt.PodSandboxStatus(ctx, id, false)
	if err != nil {
		return id, nil, nil
	}
	var ips []string
	if n := st.GetStatus().GetNetwork(); n != nil && n.GetIp() != "" {
		ips = append(ips, n.GetIp())
		for _, x := range n.GetAdditionalIps() {
			ips = append(ips, x.GetIp())
		}
	}
	return id, ips, nil
}

// prune removes old exited instances: each container keeps its newest
// exited instance (for --previous logs) besides a running one, as the
// kubelet's container garbage collection does; old stopped sandboxes that
// hold none of the kept containers go too.
func (w *worker) prune(ctx context.Context, pod *corev1.Pod, s *podState) {
	exited := map[string]int{}
	for _, c := range s.Containers {
		if c.State != stateExited {
			continue
		}
		if exited[c.Name]++; exited[c.Name] > 1 {
			_ = w.a.removeContainer(ctx, c.ID)
			_ = os.Remove(w.logPath(c.Name, c.Attempt))
		}
	}
	used := map[string]bool{}
	for _, c := range s.Containers {
		used[c.Sandbox] = true
	}
	for i, sb := range s.Sandboxes {
		if i > 0 && !sb.Ready && !used[sb.ID] {
			if err := w.a.rt.RemovePodSandbox(ctx, sb.ID); err != nil && !isNotFound(err) {
				w.a.log.Debug("agent: removing an old sandbox", "pod", podDescription(pod), "err", err)
			}
		}
	}
}

// mountMessage words a volume setup error as the kubelet's FailedMount
// events do: `MountVolume.SetUp failed for volume "cfg" : configmap "cfg"
// not found`.
func mountMessage(err error) string {
	msg := err.Error()
	rest, ok := strings.CutPrefix(msg, `volumes: volume "`)
	if !ok {
		return msg
	}
	name, cause, ok := strings.Cut(rest, `": `)
	if !ok {
		return msg
	}
	return fmt.Sprintf("MountVolume.SetUp failed for volume %q : %s", name, cause)
}
