package garbagecollector

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata/metadatainformer"
	"k8s.io/client-go/tools/cache"

	"skiff.dev/internal/controllers/ctrl"
)

// syncTimeout bounds how long a resync waits for newly watched resources
// to be listed while holding the workers back.
var syncTimeout = 30 * time.Second

// ignoredResources are never collected, as upstream: events are many and
// short-lived and are never owners.
var ignoredResources = []schema.GroupResource{
	{Group: "", Resource: "events"},
	{Group: "events.k8s.io", Resource: "events"},
}

// monitor is the metadata informer of one resource.
type monitor struct {
	informer cache.SharedIndexInformer
	cancel   context.CancelFunc
}

// monitors are the collector's informers, one per deletable resource.
type monitors struct {
	c       *Controller
	mu      sync.Mutex
	running map[schema.GroupVersionResource]*monitor
}

func newMonitors(c *Controller) *monitors {
	return &monitors{c: c, running: map[schema.GroupVersionResource]*monitor{}}
}

// resync starts informers for resources discovery lists and the collector
// does not watch yet, and stops those for resources that went away. It
// returns after the new informers have listed, holding the workers back
// meanwhile.
func (m *monitors) resync(ctx context.Context) error {
	resources, err := deletableResources(m.c.discovery)
	if len(resources) == 0 {
		if err == nil {
			err = errors.New("no deletable resources")
		}
		return fmt.Errorf("garbagecollector: discovery: %w", err)
	}
	complete := err == nil
	m.c.mapper.Reset()
	var synced []cache.InformerSynced
	var gone []schema.GroupVersionResource
	m.mu.Lock()
	for gvr, gvk := range resources {
		if m.running[gvr] != nil {
			continue
		}
		mon, err := m.start(ctx, gvr, gvk)
		if err != nil {
			m.mu.Unlock()
			return err
		}
		m.running[gvr] = mon
		synced = append(synced, mon.informer.HasSynced)
	}
	if complete {
		for gvr, mon := range m.running {
			if _, ok := resources[gvr]; !ok {
				mon.cancel()
				delete(m.running, gvr)
				gone = append(gone, gvr)
			}
		}
	}
	m.mu.Unlock()
	for _, gvr := range gone {
		m.c.log.Info("garbagecollector: stopped watching", "resource", gvr.String())
		m.c.apply(func(g *graph) work { return g.removeResource(gvr) })
	}
	if len(synced) == 0 {
		return nil
	}
	m.c.workerLock.Lock()
	defer m.c.workerLock.Unlock()
	wctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	if !ctrl.WaitForSync(wctx, synced...) {
		return fmt.Errorf("garbagecollector: new resources did not sync in %v", syncTimeout)
	}
	return nil
}

func (m *monitors) start(ctx context.Context, gvr schema.GroupVersionResource, gvk schema.GroupVersionKind) (*monitor, error) {
	inf := metadatainformer.NewFilteredMetadataInformer(m.c.meta, gvr, metav1.NamespaceAll, 0, cache.Indexers{}, nil).Informer()
	upsert := func(obj any) {
		if o, ok := ctrl.Object(obj); ok {
			ob := observe(o, gvk, gvr)
			m.c.apply(func(g *graph) work { return g.upsert(ob) })
		}
	}
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    upsert,
		UpdateFunc: func(_, obj any) { upsert(obj) },
		DeleteFunc: func(obj any) {
			if o, ok := ctrl.Object(obj); ok {
				m.c.absent.add(absentKey{uid: o.GetUID(), namespace: o.GetNamespace()})
				m.c.apply(func(g *graph) work { return g.remove(o.GetUID()) })
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("garbagecollector: watch %s: %w", gvr, err)
	}
	mctx, cancel := context.WithCancel(ctx)
	go inf.RunWithContext(mctx)
	return &monitor{informer: inf, cancel: cancel}, nil
}

func (m *monitors) stopAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for gvr, mon := range m.running {
		mon.cancel()
		delete(m.running, gvr)
	}
}

// deletableResources lists the preferred version of every resource that
// supports list, watch and delete. On a partial discovery failure it
// returns what it found with the error.
func deletableResources(d discovery.DiscoveryInterface) (map[schema.GroupVersionResource]schema.GroupVersionKind, error) {
	lists, err := d.ServerPreferredResources()
	out := map[schema.GroupVersionResource]schema.GroupVersionKind{}
	for _, list := range lists {
		gv, perr := schema.ParseGroupVersion(list.GroupVersion)
		if perr != nil {
			continue
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") || !hasVerbs(r.Verbs, "list", "watch", "delete") {
				continue
			}
			if slices.Contains(ignoredResources, schema.GroupResource{Group: gv.Group, Resource: r.Name}) {
				continue
			}
			out[gv.WithResource(r.Name)] = gv.WithKind(r.Kind)
		}
	}
	return out, err
}

func hasVerbs(verbs []string, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(verbs, w) {
			return false
		}
	}
	return true
}
