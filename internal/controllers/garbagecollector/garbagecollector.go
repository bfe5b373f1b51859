// Package garbagecollector is the garbage collector: it watches the
// metadata of every resource that can be listed, watched and deleted,
// keeps a graph of owners and their dependents built from
// ownerReferences, and enforces the deletion propagation policies. In the
// background policy, dependents whose owners are all gone are deleted
// (a dependent with a live owner left only loses the dead references); an
// owner deleted in the foreground keeps its "foregroundDeletion" finalizer
// until no dependent that blocks its deletion is left; an owner deleted
// with the orphan policy has its references removed from its dependents
// before its "orphan" finalizer is removed.
package garbagecollector

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/restmapper"
	"k8s.io/utils/clock"

	"skiff.dev/internal/controllers/ctrl"
)

// Name is the controller's name, for logs and --controllers.
const Name = "garbage-collector-controller"

// ResyncPeriod is how often the collector asks discovery for resources
// that appeared or went away (custom resources) and starts or stops
// watching them.
var ResyncPeriod = 30 * time.Second

// Controller is the garbage collector.
type Controller struct {
	meta      metadata.Interface
	discovery discovery.DiscoveryInterface
	mapper    *restmapper.DeferredDiscoveryRESTMapper
	log       *slog.Logger
	clock     clock.WithTicker
	workers   int

	mu    sync.Mutex // guards graph
	graph *graph

	attemptToDelete ctrl.Queue
	attemptToOrphan ctrl.Queue

	absent *absentCache

	// workerLock is held for reading by every sync and for writing while
	// newly found resources are being listed, so that no decision is
	// taken on a graph that misses a whole resource.
	workerLock sync.RWMutex

	monitors *monitors
}

// New builds the collector. It uses its own metadata informers, started in
// Run, not the shared ones.
func New(cc *ctrl.Context) (ctrl.Controller, error) {
	disc := cc.Client.Discovery()
	c := &Controller{
		meta:            cc.Metadata,
		discovery:       disc,
		mapper:          restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc)),
		log:             cc.Log.With("controller", Name),
		clock:           cc.Clock,
		workers:         cc.Options.Workers,
		graph:           newGraph(),
		attemptToDelete: ctrl.NewQueue("garbage_collector_attempt_to_delete"),
		attemptToOrphan: ctrl.NewQueue("garbage_collector_attempt_to_orphan"),
		absent:          newAbsentCache(1000),
	}
	if c.workers <= 0 {
		c.workers = 5
	}
	c.monitors = newMonitors(c)
	return c, nil
}

// Run watches and collects until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	defer c.monitors.stopAll()
	for {
		err := c.monitors.resync(ctx)
		if err == nil {
			break
		}
		c.log.Warn("garbagecollector: discovery failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			c.attemptToDelete.ShutDown()
			c.attemptToOrphan.ShutDown()
			return
		case <-c.clock.After(time.Second):
		}
	}
	go ctrl.Every(ctx, c.clock, ResyncPeriod, false, func(ctx context.Context) {
		if err := c.monitors.resync(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("garbagecollector: resync of watched resources failed", "err", err)
		}
	})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		ctrl.Workers(ctx, c.attemptToDelete, c.workers, c.log, c.locked(c.syncDelete))
	}()
	go func() {
		defer wg.Done()
		ctrl.Workers(ctx, c.attemptToOrphan, c.workers, c.log, c.locked(c.syncOrphan))
	}()
	wg.Wait()
}

func (c *Controller) locked(sync func(context.Context, types.UID) error) func(context.Context, string) error {
	return func(ctx context.Context, key string) error {
		c.workerLock.RLock()
		defer c.workerLock.RUnlock()
		return sync(ctx, types.UID(key))
	}
}

// apply runs a graph change and queues the work it asks for.
func (c *Controller) apply(change func(*graph) work) {
	c.mu.Lock()
	w := change(c.graph)
	c.mu.Unlock()
	for _, uid := range w.attemptToDelete {
		c.attemptToDelete.Add(string(uid))
	}
	for _, uid := range w.attemptToOrphan {
		c.attemptToOrphan.Add(string(uid))
	}
}

func (c *Controller) snapshot(uid types.UID) (snapshot, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.graph.snapshot(uid)
}

func (c *Controller) hasDependents(uid types.UID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.graph.hasDependents(uid)
}

// absentKey names an owner known to be gone. The namespace is part of it:
// a reference naming an existing UID in another namespace than the
// owner's is absent too, without the owner being gone for others.
type absentKey struct {
	uid       types.UID
	namespace string
}

// absentCache remembers owners known to be gone; a UID never comes back,
// so a hit saves a GET. It forgets everything when full.
type absentCache struct {
	mu   sync.Mutex
	max  int
	keys map[absentKey]struct{}
}

func newAbsentCache(max int) *absentCache {
	return &absentCache{max: max, keys: map[absentKey]struct{}{}}
}

func (a *absentCache) add(k absentKey) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.keys) >= a.max {
		a.keys = map[absentKey]struct{}{}
	}
	a.keys[k] = struct{}{}
}

func (a *absentCache) has(k absentKey) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.keys[k]
	return ok
}
