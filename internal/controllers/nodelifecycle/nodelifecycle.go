// Package nodelifecycle is the node lifecycle controller: it watches each
// node's heartbeats (its Lease in kube-node-lease and its Ready
// condition), marks a node whose agent went quiet Ready=Unknown along
// with its pressure conditions, marks the pods there not Ready, and keeps
// the node's condition taints in step: NoSchedule taints for every
// unhealthy condition and for cordoned nodes, and the NoExecute taints
// not-ready and unreachable from which the taint eviction controller
// evicts pods.
//
// As upstream, a node's silence is timed by when the controller saw its
// heartbeats advance, so clock skew between machines does not matter; a
// node is not tainted NoExecute while its whole zone is down, and no node
// is while no node at all is Ready.
package nodelifecycle

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	coordinationlisters "k8s.io/client-go/listers/coordination/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"skiff.dev/internal/controllers/ctrl"
)

// Name is the controller's name, for logs and leader election.
const Name = "node-lifecycle-controller"

// component is the source of its events, as upstream's.
const component = "node-controller"

// podsByNode indexes pods by spec.nodeName.
const podsByNode = "nodelifecycle.spec.nodeName"

// Controller watches node health and keeps condition taints.
type Controller struct {
	client   kubernetes.Interface
	clock    clock.WithTicker
	opts     ctrl.Options
	log      *slog.Logger
	recorder record.EventRecorder
	nodes    corelisters.NodeLister
	leases   coordinationlisters.LeaseLister
	pods     cache.Indexer
	synced   []cache.InformerSynced
	queue    ctrl.Queue // nodes whose taints to reconcile

	// Touched only by the monitor loop.
	probes    map[string]*probe
	known     map[string]types.UID
	podsRetry map[string]bool
}

// New builds the controller.
func New(cc *ctrl.Context) (ctrl.Controller, error) {
	c := &Controller{client: cc.Client, clock: cc.Clock, opts: cc.Options.WithDefaults(),
		log: cc.Log.With("controller", Name), recorder: cc.Recorder(component), queue: ctrl.NewQueue(Name),
		probes: map[string]*probe{}, known: map[string]types.UID{}, podsRetry: map[string]bool{}}
	nodes := cc.Informers.Core().V1().Nodes()
	leases := cc.Informers.Coordination().V1().Leases()
	pods := cc.Informers.Core().V1().Pods().Informer()
	if err := addNodeIndex(pods); err != nil {
		return nil, err
	}
	c.nodes, c.leases, c.pods = nodes.Lister(), leases.Lister(), pods.GetIndexer()
	c.synced = []cache.InformerSynced{nodes.Informer().HasSynced, leases.Informer().HasSynced, pods.HasSynced}
	_, err := nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { ctrl.Enqueue(c.queue, obj) },
		UpdateFunc: func(_, obj any) { ctrl.Enqueue(c.queue, obj) },
	})
	if err != nil {
		return nil, fmt.Errorf("nodelifecycle: %w", err)
	}
	return c, nil
}

func addNodeIndex(pods cache.SharedIndexInformer) error {
	if _, ok := pods.GetIndexer().GetIndexers()[podsByNode]; ok {
		return nil
	}
	err := pods.AddIndexers(cache.Indexers{podsByNode: func(obj any) ([]string, error) {
		if p, ok := obj.(*corev1.Pod); ok && p.Spec.NodeName != "" {
			return []string{p.Spec.NodeName}, nil
		}
		return nil, nil
	}})
	if err != nil {
		return fmt.Errorf("nodelifecycle: %w", err)
	}
	return nil
}

// Run checks node health every NodeMonitorPeriod and reconciles taints
// until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	if !ctrl.WaitForSync(ctx, c.synced...) {
		c.queue.ShutDown()
		return
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.monitorLoop(ctx)
	}()
	ctrl.Workers(ctx, c.queue, c.opts.Workers, c.log, c.syncTaints)
	wg.Wait()
}

// monitorLoop runs a health pass at once and then every period.
func (c *Controller) monitorLoop(ctx context.Context) {
	ctrl.Every(ctx, c.clock, c.opts.NodeMonitorPeriod, true, c.monitor)
}

// syncTaints makes the node's condition taints match its conditions.
func (c *Controller) syncTaints(ctx context.Context, name string) error {
	node, err := c.nodes.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	all, err := c.nodes.List(labels.Everything())
	if err != nil {
		return err
	}
	taints, changed := reconcileTaints(node, evictionMode(node, all), metav1.NewTime(c.clock.Now()))
	if !changed {
		return nil
	}
	node = node.DeepCopy()
	node.Spec.Taints = taints
	if _, err := c.client.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		// A conflict means the cache is behind; the newer node comes
		// with an event, and the retry reads it.
		return fmt.Errorf("nodelifecycle: taint node %s: %w", name, err)
	}
	return nil
}
