package probe

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Manager runs the periodic probes of running containers.
type Manager struct {
	// Unit is the length of one second of the probes' timing fields
	// (initialDelaySeconds, periodSeconds, timeoutSeconds). Zero means
	// time.Second; tests use a few milliseconds. Set it before Start.
	Unit time.Duration
	// Observe, when set, is called after every probe that ran, with its raw
	// result before thresholds apply — so the agent can record an Unhealthy
	// event for each failure, as the kubelet does. Set it before Start.
	Observe func(Update)

	prober   *Prober
	onChange func(Update)

	mu         sync.Mutex
	containers map[containerKey]*tracked
	wg         sync.WaitGroup
}

type containerKey struct {
	pod  types.UID
	name string
}

// tracked is the probe state of one started container.
type tracked struct {
	containerID string
	cancel      context.CancelFunc
	// started is closed once the container counts as started: at once
	// without a startup probe, else when that probe succeeds.
	started     chan struct{}
	startedOnce sync.Once
	// results holds the kinds the container declares (guarded by Manager.mu).
	results map[Kind]Result
}

// NewManager returns a Manager that reports every result change to onChange.
// onChange is called from the probe goroutines; it must not call Close.
func NewManager(p *Prober, onChange func(Update)) *Manager {
	return &Manager{prober: p, onChange: onChange, containers: map[containerKey]*tracked{}}
}

// Start begins probing container c of pod (started at startedAt) with the
// probes it declares; readiness and liveness wait until startup succeeded.
//
// Starting the same container ID again does nothing; a new container ID (the
// container restarted) stops the old probes and starts over from the initial
// results: readiness Failure, liveness Success, startup Unknown. Start itself
// does not call onChange.
func (m *Manager) Start(pod *corev1.Pod, c *corev1.Container, containerID string, startedAt time.Time) {
	key := containerKey{pod: pod.UID, name: c.Name}
	pod, c = pod.DeepCopy(), c.DeepCopy()
	probes := map[Kind]*corev1.Probe{Startup: c.StartupProbe, Liveness: c.LivenessProbe, Readiness: c.ReadinessProbe}

	m.mu.Lock()
	if m.containers == nil { // a zero Manager
		m.containers = map[containerKey]*tracked{}
	}
	if old, ok := m.containers[key]; ok {
		if old.containerID == containerID {
			m.mu.Unlock()
			return
		}
		old.cancel()
	}
	// The probes outlive the call that starts them; Stop or Close ends them.
	ctx, cancel := context.WithCancel(context.Background())
	t := &tracked{containerID: containerID, cancel: cancel, started: make(chan struct{}), results: map[Kind]Result{}}
	if c.StartupProbe == nil {
		t.markStarted()
	}
	for kind, spec := range probes {
		if spec == nil {
			continue
		}
		t.results[kind] = initialResult(kind)
		w := &worker{m: m, t: t, key: key, kind: kind, spec: spec, pod: pod, c: c, startedAt: startedAt}
		m.wg.Add(1)
		go w.run(ctx)
	}
	m.containers[key] = t
	m.mu.Unlock()
}

// Stop ends the probes of one container.
func (m *Manager) Stop(podUID types.UID, container string) {
	key := containerKey{pod: podUID, name: container}
	m.mu.Lock()
	t, ok := m.containers[key]
	delete(m.containers, key)
	m.mu.Unlock()
	if ok {
		t.cancel()
	}
}

// Close stops every container's probes and waits for their goroutines.
func (m *Manager) Close() {
	m.mu.Lock()
	for key, t := range m.containers {
		t.cancel()
		delete(m.containers, key)
	}
	m.mu.Unlock()
	m.wg.Wait()
}

// Result is the last result of a probe kind for the container; a container
// without that probe reports Success. So does a container the Manager does
// not probe (never started, or stopped).
func (m *Manager) Result(podUID types.UID, container string, kind Kind) Result {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.containers[containerKey{pod: podUID, name: container}]
	if !ok {
		return Success
	}
	r, ok := t.results[kind]
	if !ok {
		return Success
	}
	return r
}

// record stores a result that passed its threshold and reports it if it
// changed; results of stopped or replaced containers are dropped.
func (m *Manager) record(ctx context.Context, w *worker, u Update) {
	m.mu.Lock()
	if m.containers[w.key] != w.t || ctx.Err() != nil {
		m.mu.Unlock()
		return
	}
	prev := w.t.results[w.kind]
	w.t.results[w.kind] = u.Result
	m.mu.Unlock()
	if prev != u.Result && m.onChange != nil {
		m.onChange(u)
	}
}

func (m *Manager) unit() time.Duration {
	if m.Unit > 0 {
		return m.Unit
	}
	return time.Second
}

func (t *tracked) markStarted() {
	t.startedOnce.Do(func() { close(t.started) })
}

// initialResult is a probe's result before it has run, as in the kubelet.
func initialResult(k Kind) Result {
	switch k {
	case Readiness:
		return Failure
	case Liveness:
		return Success
	}
	return Unknown
}
