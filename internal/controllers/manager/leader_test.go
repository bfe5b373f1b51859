package manager_test

import (
	"context"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/controllers/ctrl"
	"skiff.dev/internal/controllers/manager"
	"skiff.dev/internal/server"
)

// The integration test lives in package manager_test because package
// server imports manager.

// probe is a control loop that records which managers run it.
type probe struct {
	mu      sync.Mutex
	running map[string]int
	starts  map[string]int
	max     int // most loops running at once, over all managers
	// stopDelay keeps a loop busy after its ctx ends, as a loop
	// finishing its in-flight syncs would be.
	stopDelay time.Duration
}

func newProbe(stopDelay time.Duration) *probe {
	return &probe{running: map[string]int{}, starts: map[string]int{}, stopDelay: stopDelay}
}

type probeLoop struct {
	p  *probe
	id string
}

func (l probeLoop) Run(ctx context.Context) {
	p := l.p
	p.mu.Lock()
	p.running[l.id]++
	p.starts[l.id]++
	total := 0
	for _, n := range p.running {
		total += n
	}
	p.max = max(p.max, total)
	p.mu.Unlock()
	<-ctx.Done()
	time.Sleep(p.stopDelay)
	p.mu.Lock()
	p.running[l.id]--
	p.mu.Unlock()
}

// runningIDs lists the identities running the loop now.
func (p *probe) runningIDs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []string
	for id, n := range p.running {
		if n > 0 {
			ids = append(ids, id)
		}
	}
	return ids
}

func (p *probe) snapshot() (maxRunning int, starts map[string]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	starts = map[string]int{}
	for k, v := range p.starts {
		starts[k] = v
	}
	return p.max, starts
}

// runner is one manager running in the background.
type runner struct {
	cancel  context.CancelFunc
	done    chan error
	stopped bool
}

func startManager(t *testing.T, cfg *rest.Config, p *probe, id string) *runner {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{cancel: cancel, done: make(chan error, 1)}
	o := manager.Options{
		Config:   cfg,
		Identity: id,
		Loops: []manager.Entry{{Name: "probe", New: func(*ctrl.Context) (ctrl.Controller, error) {
			return probeLoop{p, id}, nil
		}}},
		LeaseDuration: 2 * time.Second,
		RenewDeadline: 1500 * time.Millisecond,
		RetryPeriod:   200 * time.Millisecond,
	}
	go func() { r.done <- manager.Run(ctx, o) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the manager and waits for Run to return.
func (r *runner) stop(t *testing.T) {
	t.Helper()
	if r.stopped {
		return
	}
	r.stopped = true
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("manager.Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("manager.Run did not return after its ctx ended")
	}
}

// waitRunning waits until exactly one identity runs the loop, returning it.
func waitRunning(t *testing.T, p *probe, timeout time.Duration) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	for time.Since(start) < timeout {
		if ids := p.runningIDs(); len(ids) == 1 {
			return ids[0], time.Since(start)
		} else if len(ids) > 1 {
			t.Fatalf("loops running at once under %v", ids)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no manager started the loop within %v", timeout)
	return "", 0
}

func getLease(t *testing.T, cs kubernetes.Interface) *coordinationv1.Lease {
	t.Helper()
	l, err := cs.CoordinationV1().Leases("kube-system").Get(context.Background(), manager.LeaseName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get Lease: %v", err)
	}
	return l
}

func TestLeaderElection(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := server.Start(ctx, server.Options{DataDir: t.TempDir(), BindAddress: "127.0.0.1", WithoutControllers: true})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = s.Wait() })
	cfg, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)

	t.Run("one leader, handover on cancel", func(t *testing.T) {
		// Loops take a while to stop: the Lease must stay held until
		// they have, or the other manager would start its loop beside
		// the stopping one.
		p := newProbe(500 * time.Millisecond)
		runners := map[string]*runner{"a": startManager(t, cfg, p, "a"), "b": startManager(t, cfg, p, "b")}
		leader, _ := waitRunning(t, p, 10*time.Second)
		other := map[string]string{"a": "b", "b": "a"}[leader]

		// Over a few seconds (several lease durations) the leader keeps
		// the Lease and the other never runs the loop.
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) {
			if ids := p.runningIDs(); len(ids) != 1 || ids[0] != leader {
				t.Fatalf("running %v, want only %s", ids, leader)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if l := getLease(t, cs); ptr.Deref(l.Spec.HolderIdentity, "") != leader {
			t.Fatalf("Lease holder %q, want %q", ptr.Deref(l.Spec.HolderIdentity, ""), leader)
		}
		if m, starts := p.snapshot(); m != 1 || starts[leader] != 1 || starts[other] != 0 {
			t.Fatalf("max running %d, starts %v; want 1 and one start of %s", m, starts, leader)
		}

		// Cancel the leader: Run returns only once its loop has stopped
		// and the released Lease goes to the other at once.
		cancelled := time.Now()
		runners[leader].stop(t)
		if ids := p.runningIDs(); len(ids) > 0 && ids[0] == leader {
			t.Fatalf("Run returned while the loop of %s still ran", leader)
		}
		next, _ := waitRunning(t, p, 5*time.Second)
		if next != other {
			t.Fatalf("%s runs the loop after %s was cancelled, want %s", next, leader, other)
		}
		took := time.Since(cancelled)
		t.Logf("%s took over %v after %s was cancelled", other, took, leader)
		// Without the release it would wait out the 2 s lease, renewed
		// until the loop stopped 0.5 s after the cancel; allow for that
		// stop and a few retry periods.
		if took > 2*time.Second {
			t.Errorf("handover took %v; the Lease was not released", took)
		}
		if l := getLease(t, cs); ptr.Deref(l.Spec.HolderIdentity, "") != other {
			t.Errorf("Lease holder %q after handover, want %q", ptr.Deref(l.Spec.HolderIdentity, ""), other)
		}
		if m, _ := p.snapshot(); m != 1 {
			t.Errorf("%d loops ran at once during the handover", m)
		}
		runners[other].stop(t)
		if ids := p.runningIDs(); len(ids) != 0 {
			t.Errorf("loops still running after both managers stopped: %v", ids)
		}
		// The last holder released the Lease on the way out.
		if l := getLease(t, cs); ptr.Deref(l.Spec.HolderIdentity, "") != "" {
			t.Errorf("Lease still held by %q after the managers stopped", ptr.Deref(l.Spec.HolderIdentity, ""))
		}
	})

	t.Run("same identity takes the Lease back at once", func(t *testing.T) {
		// As if manager c had died holding the Lease a moment ago.
		now := metav1.NewMicroTime(time.Now())
		l, err := cs.CoordinationV1().Leases("kube-system").Get(context.Background(), manager.LeaseName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			l = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: manager.LeaseName}}
		} else if err != nil {
			t.Fatal(err)
		}
		l.Spec.HolderIdentity = ptr.To("c")
		l.Spec.LeaseDurationSeconds = ptr.To[int32](30)
		l.Spec.AcquireTime = &now
		l.Spec.RenewTime = &now
		if l.ResourceVersion == "" {
			_, err = cs.CoordinationV1().Leases("kube-system").Create(context.Background(), l, metav1.CreateOptions{})
		} else {
			_, err = cs.CoordinationV1().Leases("kube-system").Update(context.Background(), l, metav1.UpdateOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}

		p := newProbe(0)
		d := startManager(t, cfg, p, "d")
		c := startManager(t, cfg, p, "c")
		id, took := waitRunning(t, p, 5*time.Second)
		if id != "c" {
			t.Fatalf("%s runs the loop; want c, the holder", id)
		}
		t.Logf("c took its Lease back in %v", took)
		if took > time.Second {
			t.Errorf("c took %v to take its own Lease back, want under 1 s", took)
		}
		// d waits for the 30 s lease: it must not run the loop meanwhile.
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) {
			if ids := p.runningIDs(); len(ids) != 1 || ids[0] != "c" {
				t.Fatalf("running %v, want only c", ids)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if l := getLease(t, cs); ptr.Deref(l.Spec.HolderIdentity, "") != "c" {
			t.Errorf("Lease holder %q, want c", ptr.Deref(l.Spec.HolderIdentity, ""))
		}
		if _, starts := p.snapshot(); starts["d"] != 0 {
			t.Errorf("d started the loop %d times", starts["d"])
		}
		c.stop(t)
		d.stop(t)
	})

	t.Run("lost Lease: loops stop before campaigning again", func(t *testing.T) {
		// The loop takes 3 s to stop, longer than another holder's 2 s
		// lease: a manager that campaigned again at once would start a
		// second copy of the loop beside the stopping one.
		p := newProbe(3 * time.Second)
		startManager(t, cfg, p, "e")
		if id, _ := waitRunning(t, p, 5*time.Second); id != "e" {
			t.Fatalf("%s runs the loop, want e", id)
		}
		// Another holder "z" takes the Lease from under e.
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			l := getLease(t, cs)
			now := metav1.NewMicroTime(time.Now())
			l.Spec.HolderIdentity = ptr.To("z")
			l.Spec.LeaseDurationSeconds = ptr.To[int32](2)
			l.Spec.AcquireTime, l.Spec.RenewTime = &now, &now
			_, err := cs.CoordinationV1().Leases("kube-system").Update(context.Background(), l, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			if _, starts := p.snapshot(); starts["e"] >= 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("e never took the Lease back after z's expired")
			}
			time.Sleep(50 * time.Millisecond)
		}
		if m, _ := p.snapshot(); m != 1 {
			t.Errorf("%d copies of the loop ran at once after e lost its Lease", m)
		}
		if l := getLease(t, cs); ptr.Deref(l.Spec.HolderIdentity, "") != "e" {
			t.Errorf("Lease holder %q, want e", ptr.Deref(l.Spec.HolderIdentity, ""))
		}
	})
}
