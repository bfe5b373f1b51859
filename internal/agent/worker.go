package agent

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"

	"skiff.dev/internal/agent/probe"
)

// worker owns one pod: a goroutine that syncs it whenever something may
// have changed (its spec, its containers, a probe result, a timer) and
// never runs two syncs of the same pod at once. The pod's lifecycle on the
// node is: syncing (running it), then terminating (stopping it, once it is
// deleted, removed from its source or finished), then terminated (stopped,
// kept for its logs until the pod is gone), then finished.
type worker struct {
	a      *Agent
	uid    types.UID
	static bool
	wake   chan struct{}

	mu      sync.Mutex
	pod     *corev1.Pod       // the latest desired pod
	removed bool              // gone from its source
	state   *podState         // as last observed
	status  *corev1.PodStatus // as last computed
	written *corev1.Pod       // as last written to the API
	probing map[string]string // container name → the instance its probes run for
	logDir  string

	// Owned by the worker's goroutine.
	backoffs    map[string]*backoff
	failures    map[string]startFailure
	messages    map[string]string // termination messages by container ID
	volumesAt   time.Time         // last successful volume setup
	mountFailed string            // last FailedMount message
	terminal    bool              // the pod finished: nothing restarts
	failReason  string            // set when the agent fails the pod (DeadlineExceeded)
	failMessage string
	stopped     bool // every container and the sandbox stopped
	cleaned     bool // volumes cleaned up
	deleteSent  bool
	nextWake    time.Time
}

// newWorker returns a worker for pod; start runs it.
func newWorker(a *Agent, pod *corev1.Pod, static bool) *worker {
	return &worker{a: a, uid: pod.UID, static: static, wake: make(chan struct{}, 1), pod: pod,
		probing: map[string]string{}, backoffs: map[string]*backoff{}, failures: map[string]startFailure{},
		messages: map[string]string{}, logDir: podLogDir(a.podsDir(), pod)}
}

// update hands the worker a newer version of its pod. Like the kubelet,
// it syncs again only when more than the status changed: the agent's own
// status writes come back this way.
func (w *worker) update(pod *corev1.Pod) {
	w.mu.Lock()
	old := w.pod
	w.pod = pod
	w.mu.Unlock()
	if old == nil || !onlyStatusChanged(old, pod) {
		w.poke()
	}
}

// onlyStatusChanged reports whether two versions of a pod differ only in
// status and bookkeeping (resourceVersion, managedFields).
func onlyStatusChanged(a, b *corev1.Pod) bool {
	return a.UID == b.UID && equality.Semantic.DeepEqual(a.Spec, b.Spec) &&
		equality.Semantic.DeepEqual(a.DeletionTimestamp, b.DeletionTimestamp) &&
		equality.Semantic.DeepEqual(a.DeletionGracePeriodSeconds, b.DeletionGracePeriodSeconds) &&
		equality.Semantic.DeepEqual(a.Labels, b.Labels) && equality.Semantic.DeepEqual(a.Annotations, b.Annotations) &&
		a.Status.Phase == b.Status.Phase
}

// remove tells the worker its pod is gone from its source.
func (w *worker) remove() {
	w.mu.Lock()
	w.removed = true
	w.mu.Unlock()
	w.poke()
}

// poke asks for a sync soon.
func (w *worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) snapshot() (*corev1.Pod, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pod, w.removed
}

// run syncs the pod until it is finished or ctx ends.
func (w *worker) run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		w.nextWake = time.Now().Add(w.a.o.SyncPeriod)
		finished := w.sync(ctx)
		if finished {
			w.a.dropWorker(w)
			return
		}
		timer.Reset(max(time.Until(w.nextWake), 10*time.Millisecond))
	}
}

// wakeAt asks for a sync no later than t.
func (w *worker) wakeAt(t time.Time) {
	if t.Before(w.nextWake) {
		w.nextWake = t
	}
}

// sync runs one sync and reports whether the worker is finished.
func (w *worker) sync(ctx context.Context) bool {
	pod, removed := w.snapshot()
	if removed || pod.DeletionTimestamp != nil || w.terminal || terminalPhase(pod.Status.Phase) && !w.static {
		return w.syncTerminating(ctx, pod, removed)
	}
	w.syncPod(ctx, pod)
	if w.terminal {
		return w.syncTerminating(ctx, pod, false)
	}
	return false
}

// probeView is the worker's view of probe results: a result counts only
// for the container instance the probes were started for.
func (w *worker) probeView(name, id string, kind probe.Kind) probe.Result {
	w.mu.Lock()
	current := w.probing[name] == id && id != ""
	w.mu.Unlock()
	if !current {
		return probe.Unknown
	}
	return w.a.probes.Result(w.uid, name, kind)
}

// probeChanged syncs the pod after a probe result of its current
// container instance changed.
func (w *worker) probeChanged(u probe.Update) {
	w.mu.Lock()
	current := w.probing[u.Container] == u.ContainerID
	w.mu.Unlock()
	if current {
		w.poke()
	}
}

// probeObserved records an Unhealthy event for a failed probe, with the
// kubelet's message ("Liveness probe failed: <output>").
func (w *worker) probeObserved(u probe.Update) {
	w.mu.Lock()
	current := w.probing[u.Container] == u.ContainerID
	pod := w.pod
	w.mu.Unlock()
	if current && u.Result == probe.Failure {
		w.a.containerEvent(pod, u.Container, corev1.EventTypeWarning, eventUnhealthy, "%s probe failed: %s", u.Kind, u.Output)
	}
}

// ensureProbes starts the probes of running containers that declare any,
// for their current instance, and stops the probes of the others.
func (w *worker) ensureProbes(pod *corev1.Pod, s *podState) {
	for _, c := range allContainers(pod) {
		st := s.latest(c.Name)
		w.mu.Lock()
		current := w.probing[c.Name]
		w.mu.Unlock()
		hasProbes := c.LivenessProbe != nil || c.ReadinessProbe != nil || c.StartupProbe != nil
		if st != nil && st.State == stateRunning && hasProbes {
			if current == st.ID {
				continue
			}
			if current != "" {
				w.a.probes.Stop(w.uid, c.Name)
			}
			w.mu.Lock()
			w.probing[c.Name] = st.ID
			w.mu.Unlock()
			w.a.probes.Start(w.podWithIPs(pod, s), c, st.ID, st.StartedAt)
			continue
		}
		if current != "" {
			w.stopProbe(c.Name)
		}
	}
}

// stopProbe ends one container's probes.
func (w *worker) stopProbe(name string) {
	w.mu.Lock()
	delete(w.probing, name)
	w.mu.Unlock()
	w.a.probes.Stop(w.uid, name)
}

// stopProbes ends every probe of the pod.
func (w *worker) stopProbes() {
	w.mu.Lock()
	names := make([]string, 0, len(w.probing))
	for n := range w.probing {
		names = append(names, n)
	}
	w.mu.Unlock()
	for _, n := range names {
		w.stopProbe(n)
	}
}

// podWithIPs is pod with the IPs env vars and probes need filled in.
func (w *worker) podWithIPs(pod *corev1.Pod, s *podState) *corev1.Pod {
	p := pod.DeepCopy()
	if sb := s.sandbox(); sb != nil && len(sb.IPs) > 0 {
		p.Status.PodIP = sb.IPs[0]
		p.Status.PodIPs = nil
		for _, ip := range sb.IPs {
			p.Status.PodIPs = append(p.Status.PodIPs, corev1.PodIP{IP: ip})
		}
	}
	if len(w.a.hostIPs) > 0 {
		p.Status.HostIP = w.a.hostIPs[0]
		p.Status.HostIPs = nil
		for _, ip := range w.a.hostIPs {
			p.Status.HostIPs = append(p.Status.HostIPs, corev1.HostIP{IP: ip})
		}
		if p.Status.PodIP == "" && pod.Spec.HostNetwork {
			p.Status.PodIP = w.a.hostIPs[0]
			p.Status.PodIPs = []corev1.PodIP{{IP: p.Status.PodIP}}
		}
	}
	return p
}
