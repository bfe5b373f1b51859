// Package manager runs control loops as upstream's kube-controller-manager
// does: under leader election on a Lease, so that of several servers
// sharing one cluster store only one runs the loops at a time, all on one
// set of shared informers. The loops themselves are listed in package
// controllers; this package does not import them, so that a loop's tests
// can start a control plane.
package manager

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/utils/clock"

	"skiff.dev/internal/controllers/ctrl"
)

// LeaseName is the Lease in kube-system the controller managers compete
// for, named as upstream's.
const LeaseName = "kube-controller-manager"

// Entry is one control loop: its name (as in --controllers) and how to
// build it.
type Entry struct {
	Name string
	New  func(*ctrl.Context) (ctrl.Controller, error)
}

// Options configure the controller manager.
type Options struct {
	// Loops are the loops there are, in the order they start.
	Loops []Entry
	// Config reaches the API server.
	Config *rest.Config
	// Identity names this manager in the Lease. Keep it stable across
	// restarts of the same server: a restarted manager then takes its
	// Lease back at once instead of waiting for it to expire.
	Identity string
	// Enabled picks loops as upstream's --controllers does: "*" is every
	// loop, "name" adds one, "-name" removes one. Empty means "*".
	Enabled []string
	// Log receives the loops' logs.
	Log *slog.Logger
	// Clock is the loops' clock; nil is the real one.
	Clock clock.WithTicker
	// Controllers tunes the loops.
	Controllers ctrl.Options
	// LeaseDuration, RenewDeadline and RetryPeriod are the leader
	// election timings (15 s, 10 s, 2 s as upstream).
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
}

// Validate checks the loop names in Enabled.
func (o Options) Validate() error {
	var names []string
	for _, e := range o.Loops {
		names = append(names, e.Name)
	}
	for _, n := range o.Enabled {
		name := strings.TrimPrefix(n, "-")
		if name != "*" && !slices.Contains(names, name) {
			return fmt.Errorf("unknown controller %q; known: %s", name, strings.Join(names, ", "))
		}
	}
	return nil
}

func (o Options) enabled(name string) bool {
	if len(o.Enabled) == 0 {
		return true
	}
	on := false
	for _, n := range o.Enabled {
		switch n {
		case "*":
			on = true
		case name:
			return true
		case "-" + name:
			return false
		}
	}
	return on
}

// Run campaigns for the Lease and, while it holds it, runs the enabled
// loops. It returns when ctx ends, once the loops have stopped and the
// Lease is released. Losing the Lease stops the loops; once they have
// stopped the manager campaigns again.
func Run(ctx context.Context, o Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.LeaseDuration <= 0 {
		o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = 15*time.Second, 10*time.Second, 2*time.Second
	}
	cs, err := kubernetes.NewForConfig(o.Config)
	if err != nil {
		return err
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: "kube-system", Name: LeaseName},
		Client:     cs.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: o.Identity},
	}
	for ctx.Err() == nil {
		if err := campaign(ctx, o, lock); err != nil {
			return err
		}
	}
	return nil
}

// campaign runs one round of leader election: it waits for the Lease,
// runs the loops while holding it and returns once it is lost or ctx
// ends, never before the loops have stopped. The elector gets a context of
// its own, cancelled only after the loops have stopped, so the Lease is
// released (ReleaseOnCancel) when nothing it guards runs any more and the
// next round never overlaps loops still stopping.
func campaign(ctx context.Context, o Options, lock resourcelock.Interface) error {
	leCtx, leCancel := context.WithCancel(context.WithoutCancel(ctx))
	defer leCancel()
	var (
		mu sync.Mutex
		// over is set once ctx has ended or the elector has returned:
		// too late to start loops.
		over    bool
		running sync.WaitGroup
	)
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: lock, Name: LeaseName, ReleaseOnCancel: true,
		LeaseDuration: o.LeaseDuration, RenewDeadline: o.RenewDeadline, RetryPeriod: o.RetryPeriod,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) {
				mu.Lock()
				if over {
					mu.Unlock()
					return
				}
				running.Add(1)
				mu.Unlock()
				defer running.Done()
				// The loops stop when ctx ends or the Lease is lost.
				lctx, cancel := context.WithCancel(lctx)
				defer cancel()
				defer context.AfterFunc(ctx, cancel)()
				o.Log.Info("leading; starting the control loops", "identity", o.Identity)
				if err := runLoops(lctx, o); err != nil {
					o.Log.Error("control loops failed", "err", err)
				}
			},
			OnStoppedLeading: func() {
				if ctx.Err() == nil {
					o.Log.Warn("lost the controller manager Lease; loops stopped", "identity", o.Identity)
				}
			},
		},
	})
	if err != nil {
		return err
	}
	// When ctx ends, let the loops stop, then stop the elector (which
	// releases the Lease if held). No loops start after over is set, so
	// the Wait cannot race an Add.
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		over = true
		mu.Unlock()
		running.Wait()
		leCancel()
	})
	defer stop()
	le.Run(leCtx)
	mu.Lock()
	over = true
	mu.Unlock()
	running.Wait()
	return nil
}

// runLoops builds the enabled loops on one fresh Context, starts the
// shared informers and runs the loops until ctx ends.
func runLoops(ctx context.Context, o Options) error {
	cctx, err := ctrl.NewContext(o.Config, o.Log, o.Clock, o.Controllers)
	if err != nil {
		return err
	}
	defer cctx.Shutdown()
	var loops []ctrl.Controller
	for _, e := range o.Loops {
		if !o.enabled(e.Name) {
			continue
		}
		c, err := e.New(cctx)
		if err != nil {
			return fmt.Errorf("controller %s: %w", e.Name, err)
		}
		loops = append(loops, c)
	}
	cctx.Start(ctx)
	var wg sync.WaitGroup
	for _, c := range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Run(ctx)
		}()
	}
	wg.Wait()
	return nil
}
