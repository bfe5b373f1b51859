package probe

import (
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// unit makes one probe "second" 5ms, so periods and delays are short.
const unit = 5 * time.Millisecond

// recorder collects the updates a Manager reports.
type recorder struct {
	mu      sync.Mutex
	updates []Update
	ch      chan Update
}

func newRecorder() *recorder { return &recorder{ch: make(chan Update, 100)} }

func (r *recorder) onChange(u Update) {
	r.mu.Lock()
	r.updates = append(r.updates, u)
	r.mu.Unlock()
	r.ch <- u
}

// next waits for the next update.
func (r *recorder) next(t *testing.T) Update {
	t.Helper()
	select {
	case u := <-r.ch:
		return u
	case <-time.After(5 * time.Second):
		t.Fatal("no update within 5s")
		return Update{}
	}
}

// quiet fails if an update arrives within d.
func (r *recorder) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case u := <-r.ch:
		t.Fatalf("unexpected update %+v", u)
	case <-time.After(d):
	}
}

// probeOf builds an exec probe on word with the given thresholds.
func probeOf(word string, period, failure, success int32) *corev1.Probe {
	p := execProbe(word)
	p.PeriodSeconds, p.FailureThreshold, p.SuccessThreshold = period, failure, success
	return p
}

func newTestManager(t *testing.T, exec *fakeExec) (*Manager, *recorder) {
	rec := newRecorder()
	m := NewManager(&Prober{Exec: exec}, rec.onChange)
	m.Unit = unit
	t.Cleanup(m.Close)
	return m, rec
}

func expect(t *testing.T, u Update, kind Kind, result Result) {
	t.Helper()
	if u.Kind != kind || u.Result != result {
		t.Fatalf("update = %s %s (%q), want %s %s", u.Kind, u.Result, u.Output, kind, result)
	}
}

func TestManagerReadiness(t *testing.T) {
	exec := newFakeExec()
	m, rec := newTestManager(t, exec)
	pod := testPod("")
	c := &pod.Spec.Containers[0]
	c.ReadinessProbe = probeOf("ready", 1, 2, 2)

	m.Start(pod, c, "cid-1", time.Now())
	if r := m.Result(pod.UID, "app", Readiness); r != Failure {
		t.Fatalf("initial readiness = %s, want Failure", r)
	}
	if r := m.Result(pod.UID, "app", Liveness); r != Success {
		t.Fatalf("liveness without a probe = %s, want Success", r)
	}
	rec.quiet(t, 20*unit) // failing, but readiness already is Failure

	exec.set("ready", true)
	u := rec.next(t)
	expect(t, u, Readiness, Success)
	if u.ContainerID != "cid-1" || u.PodUID != pod.UID || u.Container != "app" || u.Output != "healthy" {
		t.Errorf("update = %+v", u)
	}
	if n := exec.count("ready"); n < 2 {
		t.Errorf("Success after %d probes, want successThreshold 2", n)
	}
	if r := m.Result(pod.UID, "app", Readiness); r != Success {
		t.Errorf("readiness = %s", r)
	}
	rec.quiet(t, 10*unit) // no repeats while nothing changes

	exec.set("ready", false)
	expect(t, rec.next(t), Readiness, Failure)
	exec.set("ready", true)
	expect(t, rec.next(t), Readiness, Success) // readiness keeps probing
}

func TestManagerLivenessFailureHolds(t *testing.T) {
	exec := newFakeExec()
	m, rec := newTestManager(t, exec)
	pod := testPod("")
	c := &pod.Spec.Containers[0]
	c.LivenessProbe = probeOf("alive", 1, 3, 1)
	exec.set("alive", true)

	m.Start(pod, c, "cid-1", time.Now())
	rec.quiet(t, 10*unit) // liveness starts as Success
	exec.set("alive", false)
	expect(t, rec.next(t), Liveness, Failure)
	calls := exec.count("alive")
	rec.quiet(t, 10*unit)
	if n := exec.count("alive"); n != calls {
		t.Errorf("probed %d more times after the liveness failure, want none until a restart", n-calls)
	}

	// The restarted container starts over from Success and fails again.
	m.Start(pod, c, "cid-2", time.Now())
	if r := m.Result(pod.UID, "app", Liveness); r != Success {
		t.Errorf("liveness after restart = %s, want Success", r)
	}
	u := rec.next(t)
	expect(t, u, Liveness, Failure)
	if u.ContainerID != "cid-2" {
		t.Errorf("update for %s, want cid-2", u.ContainerID)
	}
}

func TestManagerStartupGates(t *testing.T) {
	exec := newFakeExec()
	m, rec := newTestManager(t, exec)
	pod := testPod("")
	c := &pod.Spec.Containers[0]
	c.StartupProbe = probeOf("started", 1, 1000, 1)
	c.LivenessProbe = probeOf("alive", 1, 3, 1)
	c.ReadinessProbe = probeOf("ready", 1, 3, 1)
	exec.set("alive", true)
	exec.set("ready", true)

	m.Start(pod, c, "cid-1", time.Now())
	if r := m.Result(pod.UID, "app", Startup); r != Unknown {
		t.Errorf("initial startup = %s, want Unknown", r)
	}
	rec.quiet(t, 10*unit)
	if exec.count("alive") != 0 || exec.count("ready") != 0 {
		t.Fatalf("liveness/readiness ran before startup succeeded")
	}
	exec.set("started", true)
	expect(t, rec.next(t), Startup, Success)
	expect(t, rec.next(t), Readiness, Success)
	startupCalls := exec.count("started")
	rec.quiet(t, 10*unit)
	if n := exec.count("started"); n != startupCalls {
		t.Errorf("startup probe ran %d more times after succeeding", n-startupCalls)
	}
	if exec.count("alive") == 0 {
		t.Error("liveness never ran after startup")
	}
}

func TestManagerStartupFailure(t *testing.T) {
	exec := newFakeExec()
	m, rec := newTestManager(t, exec)
	pod := testPod("")
	c := &pod.Spec.Containers[0]
	c.StartupProbe = probeOf("started", 1, 2, 1)
	c.ReadinessProbe = probeOf("ready", 1, 1, 1)

	m.Start(pod, c, "cid-1", time.Now())
	expect(t, rec.next(t), Startup, Failure)
	rec.quiet(t, 10*unit)
	if exec.count("ready") != 0 {
		t.Error("readiness ran although startup failed")
	}
}

func TestManagerInitialDelay(t *testing.T) {
	exec := newFakeExec()
	exec.set("ready", true)
	m, rec := newTestManager(t, exec)
	pod := testPod("")
	c := &pod.Spec.Containers[0]
	c.ReadinessProbe = probeOf("ready", 1, 1, 1)
	c.ReadinessProbe.InitialDelaySeconds = 40

	start := time.Now()
	m.Start(pod, c, "cid-1", start)
	expect(t, rec.next(t), Readiness, Success)
	if waited := time.Since(start); waited < 40*unit {
		t.Errorf("first probe after %v, want at least the initial delay %v", waited, 40*unit)
	}
}

func TestManagerStopAndRestart(t *testing.T) {
	exec := newFakeExec()
	exec.set("ready", true)
	m, rec := newTestManager(t, exec)
	pod := testPod("")
	c := &pod.Spec.Containers[0]
	c.ReadinessProbe = probeOf("ready", 1, 1, 1)

	m.Start(pod, c, "cid-1", time.Now())
	expect(t, rec.next(t), Readiness, Success)
	m.Start(pod, c, "cid-1", time.Now()) // same container: nothing changes
	if r := m.Result(pod.UID, "app", Readiness); r != Success {
		t.Errorf("readiness after a repeated Start = %s", r)
	}

	m.Start(pod, c, "cid-2", time.Now()) // restarted: back to Failure, then Success
	expect(t, rec.next(t), Readiness, Success)

	m.Stop(pod.UID, "app")
	time.Sleep(5 * unit) // let a probe in flight finish
	calls := exec.count("ready")
	rec.quiet(t, 10*unit)
	if n := exec.count("ready"); n != calls {
		t.Errorf("probed %d times after Stop", n-calls)
	}
	if r := m.Result(pod.UID, "app", Readiness); r != Success {
		t.Errorf("result of a stopped container = %s, want Success", r)
	}
}

func TestManagerDropsProbeErrors(t *testing.T) {
	exec := newFakeExec()
	m, rec := newTestManager(t, exec)
	var observed []Update
	var mu sync.Mutex
	m.Observe = func(u Update) { mu.Lock(); observed = append(observed, u); mu.Unlock() }
	pod := testPod("")
	c := &pod.Spec.Containers[0]
	c.LivenessProbe = probeOf("broken", 1, 1, 1)
	c.ReadinessProbe = probeOf("fail", 1, 5, 1)

	m.Start(pod, c, "cid-1", time.Now())
	rec.quiet(t, 20*unit)
	if r := m.Result(pod.UID, "app", Liveness); r != Success {
		t.Errorf("liveness = %s: a probe error must not count as a failure", r)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(observed) == 0 {
		t.Fatal("Observe saw no probe runs")
	}
	for _, u := range observed {
		if u.Kind != Readiness || u.Result != Failure || u.Output != "out err" {
			t.Errorf("observed %+v", u)
		}
	}
}
