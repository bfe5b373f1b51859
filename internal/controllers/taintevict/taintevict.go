// Package taintevict is the taint eviction controller (upstream's taint
// manager): pods on a node with NoExecute taints they do not tolerate are
// deleted at once; pods tolerating them for tolerationSeconds are deleted
// when that time has passed since the taints were seen; pods tolerating
// them without a limit stay. A scheduled eviction is cancelled when the
// taint goes away or the pod comes to tolerate it. Before deleting a pod
// the controller gives it the DisruptionTarget condition.
package taintevict

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"skiff.dev/internal/controllers/ctrl"
)

// Name is the controller's name, for logs and leader election; its events
// come from the same component.
const Name = "taint-eviction-controller"

// podsByNode indexes pods by spec.nodeName.
const podsByNode = "taintevict.spec.nodeName"

// Controller deletes pods from nodes tainted NoExecute.
type Controller struct {
	client   kubernetes.Interface
	clock    clock.WithTicker
	log      *slog.Logger
	recorder record.EventRecorder
	nodes    corelisters.NodeLister
	pods     corelisters.PodLister
	podIndex cache.Indexer
	synced   []cache.InformerSynced
	queue    ctrl.Queue // pods due for deletion
	workers  int

	mu        sync.Mutex
	scheduled map[string]*eviction // by pod key
}

// New builds the controller.
func New(cc *ctrl.Context) (ctrl.Controller, error) {
	c := &Controller{client: cc.Client, clock: cc.Clock, log: cc.Log.With("controller", Name),
		recorder: cc.Recorder(Name), queue: ctrl.NewQueue(Name), workers: cc.Options.WithDefaults().Workers,
		scheduled: map[string]*eviction{}}
	nodes := cc.Informers.Core().V1().Nodes()
	pods := cc.Informers.Core().V1().Pods()
	if _, ok := pods.Informer().GetIndexer().GetIndexers()[podsByNode]; !ok {
		err := pods.Informer().AddIndexers(cache.Indexers{podsByNode: func(obj any) ([]string, error) {
			if p, ok := obj.(*corev1.Pod); ok && p.Spec.NodeName != "" {
				return []string{p.Spec.NodeName}, nil
			}
			return nil, nil
		}})
		if err != nil {
			return nil, fmt.Errorf("taintevict: %w", err)
		}
	}
	c.nodes, c.pods, c.podIndex = nodes.Lister(), pods.Lister(), pods.Informer().GetIndexer()
	c.synced = []cache.InformerSynced{nodes.Informer().HasSynced, pods.Informer().HasSynced}
	_, err := pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.podChanged(obj) },
		UpdateFunc: func(_, obj any) { c.podChanged(obj) },
		DeleteFunc: func(obj any) {
			if key, ok := ctrl.Key(obj); ok {
				c.forget(key)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("taintevict: %w", err)
	}
	_, err = nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { c.nodeChanged(obj.(*corev1.Node).Name, noExecute(obj.(*corev1.Node))) },
		UpdateFunc: func(old, obj any) {
			was, now := noExecute(old.(*corev1.Node)), noExecute(obj.(*corev1.Node))
			if !slices.EqualFunc(was, now, func(a, b corev1.Taint) bool { return a.MatchTaint(&b) && a.Value == b.Value }) {
				c.nodeChanged(obj.(*corev1.Node).Name, now)
			}
		},
		DeleteFunc: func(obj any) {
			if m, ok := ctrl.Object(obj); ok {
				c.nodeChanged(m.GetName(), nil)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("taintevict: %w", err)
	}
	return c, nil
}

// Run deletes pods as they fall due until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	if !ctrl.WaitForSync(ctx, c.synced...) {
		c.queue.ShutDown()
		return
	}
	// Pods seen before the nodes' taints were in the cache get their turn.
	nodes, _ := c.nodes.List(everything)
	for _, n := range nodes {
		c.nodeChanged(n.Name, noExecute(n))
	}
	ctrl.Workers(ctx, c.queue, c.workers, c.log, c.evict)
	c.mu.Lock()
	for key := range c.scheduled {
		c.stop(key)
	}
	c.mu.Unlock()
}

// podChanged re-decides a pod against its node's taints.
func (c *Controller) podChanged(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	key, _ := ctrl.Key(pod)
	if pod.Spec.NodeName == "" {
		c.forget(key)
		return
	}
	node, err := c.nodes.Get(pod.Spec.NodeName)
	if err != nil && !apierrors.IsNotFound(err) {
		return
	}
	c.consider(key, pod, noExecute(node))
}

// nodeChanged re-decides every pod on a node whose NoExecute taints
// changed.
func (c *Controller) nodeChanged(name string, taints []corev1.Taint) {
	objs, err := c.podIndex.ByIndex(podsByNode, name)
	if err != nil {
		return
	}
	for _, obj := range objs {
		pod := obj.(*corev1.Pod)
		key, _ := ctrl.Key(pod)
		c.consider(key, pod, taints)
	}
}
