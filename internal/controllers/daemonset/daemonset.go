// Package daemonset is the DaemonSet controller: it keeps one pod of each
// DaemonSet on every node the pod template fits (nodeSelector, required
// node affinity, taints it tolerates), removes pods from nodes that stop
// fitting, replaces failed pods with a back-off, rolls template changes out
// with the RollingUpdate (maxUnavailable, maxSurge) or OnDelete strategy,
// records each template as a ControllerRevision, and reports the counts in
// the DaemonSet's status.
//
// Pods are not bound by this loop: each gets a required node affinity to
// its node's metadata.name, and the scheduler binds it, as upstream has
// done since Kubernetes 1.12. Decisions are pure functions over the cached
// nodes and pods (planNode, planRollout, computeStatus); the Controller
// only reads the caches and writes through the client.
package daemonset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/utils/clock"

	"skiff.dev/internal/controllers/ctrl"
)

// Name is the controller's name, for logs, events and --controllers.
const Name = "daemonset-controller"

// Settings the lead may expose as flags; upstream's values.
var (
	// BurstReplicas caps the pods created, and those deleted, in one sync.
	BurstReplicas = 250
	// FailedPodBackoff and FailedPodBackoffMax bound the per-node back-off
	// between deleting failed daemon pods.
	FailedPodBackoff    = time.Second
	FailedPodBackoffMax = 15 * time.Minute
)

var gvk = appsv1.SchemeGroupVersion.WithKind("DaemonSet")

// Controller reconciles DaemonSets.
type Controller struct {
	client       kubernetes.Interface
	recorder     record.EventRecorder
	clock        clock.WithTicker
	log          *slog.Logger
	workers      int
	queue        ctrl.Queue
	expectations *ctrl.Expectations
	backoff      *flowcontrol.Backoff

	dsLister       appslisters.DaemonSetLister
	podLister      corelisters.PodLister
	nodeLister     corelisters.NodeLister
	revisionLister appslisters.ControllerRevisionLister
	synced         []cache.InformerSynced
}

// New builds the controller on the shared DaemonSet, pod, node and
// ControllerRevision informers.
func New(cc *ctrl.Context) (ctrl.Controller, error) {
	backoff := flowcontrol.NewBackOff(FailedPodBackoff, FailedPodBackoffMax)
	backoff.Clock = cc.Clock
	c := &Controller{
		client:       cc.Client,
		recorder:     cc.Recorder(Name),
		clock:        cc.Clock,
		log:          cc.Log.With("controller", Name),
		workers:      cc.Options.Workers,
		queue:        ctrl.NewQueue(Name),
		expectations: ctrl.NewExpectations(),
		backoff:      backoff,
	}
	if c.workers <= 0 {
		c.workers = 1
	}
	dsInf := cc.Informers.Apps().V1().DaemonSets()
	podInf := cc.Informers.Core().V1().Pods()
	nodeInf := cc.Informers.Core().V1().Nodes()
	revInf := cc.Informers.Apps().V1().ControllerRevisions()
	c.dsLister, c.podLister, c.nodeLister, c.revisionLister = dsInf.Lister(), podInf.Lister(), nodeInf.Lister(), revInf.Lister()

	handlers := []struct {
		inf cache.SharedIndexInformer
		h   cache.ResourceEventHandler
	}{
		{dsInf.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { ctrl.Enqueue(c.queue, obj) },
			UpdateFunc: func(_, obj any) { ctrl.Enqueue(c.queue, obj) },
			DeleteFunc: func(obj any) { ctrl.Enqueue(c.queue, obj) },
		}},
		{podInf.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: c.addPod, UpdateFunc: c.updatePod, DeleteFunc: c.deletePod,
		}},
		{nodeInf.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: c.addNode, UpdateFunc: c.updateNode, DeleteFunc: c.deleteNode,
		}},
		{revInf.Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc: c.revisionChanged, UpdateFunc: c.revisionUpdated, DeleteFunc: c.revisionChanged,
		}},
	}
	for _, h := range handlers {
		if _, err := h.inf.AddEventHandler(h.h); err != nil {
			return nil, fmt.Errorf("daemonset: %w", err)
		}
		c.synced = append(c.synced, h.inf.HasSynced)
	}
	return c, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	if !ctrl.WaitForSync(ctx, c.synced...) {
		c.queue.ShutDown()
		return
	}
	go c.collectBackoff(ctx)
	ctrl.Workers(ctx, c.queue, c.workers, c.log, c.sync)
}

// collectBackoff drops expired back-off entries now and then.
func (c *Controller) collectBackoff(ctx context.Context) {
	ctrl.Every(ctx, c.clock, time.Minute, false, func(context.Context) { c.backoff.GC() })
}

// sync reconciles one DaemonSet.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name := ctrl.SplitKey(key)
	ds, err := c.dsLister.DaemonSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.expectations.Forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	nodes, err := c.nodeLister.List(labels.Everything())
	if err != nil {
		return err
	}
	if ds.Spec.Selector == nil || (len(ds.Spec.Selector.MatchLabels) == 0 && len(ds.Spec.Selector.MatchExpressions) == 0) {
		c.recorder.Eventf(ds, corev1.EventTypeWarning, "SelectingAll", "This daemon set is selecting all pods. A non-empty selector is required.")
		return nil
	}
	if ds.DeletionTimestamp != nil {
		// What it owns is being deleted or orphaned; counts would mislead.
		return nil
	}
	cur, old, err := c.revisions(ctx, ds)
	if err != nil {
		return err
	}
	hash := cur.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]
	if !c.expectations.Satisfied(key) {
		// The cache has not caught up with our last writes yet.
		return c.updateStatus(ctx, ds, nodes, hash, false)
	}
	// Drop any expectations that timed out rather than were met.
	c.expectations.Forget(key)
	err = c.reconcile(ctx, ds, nodes, hash, key, old)
	return errors.Join(err, c.updateStatus(ctx, ds, nodes, hash, true))
}

// reconcile runs the core loop, then a rolling-update step when the core
// loop had nothing in flight, then prunes old revisions.
func (c *Controller) reconcile(ctx context.Context, ds *appsv1.DaemonSet, nodes []*corev1.Node, hash, key string, old []*appsv1.ControllerRevision) error {
	if err := c.manage(ctx, ds, nodes, hash); err != nil {
		return err
	}
	if c.expectations.Satisfied(key) && ds.Spec.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		pods, err := c.claimPods(ctx, ds)
		if err != nil {
			return err
		}
		step, err := planRollout(ds, nodes, groupByNode(pods), hash, metav1.Time{Time: c.clock.Now()})
		if err != nil {
			return err
		}
		if err := c.syncNodes(ctx, ds, step.remove, step.create, hash); err != nil {
			return err
		}
	}
	pods, err := c.claimPods(ctx, ds)
	if err != nil {
		return err
	}
	return c.pruneHistory(ctx, ds, old, pods)
}

// updateStatus recomputes and stores the status; with minReadySeconds it
// looks again once ready pods may have become available.
func (c *Controller) updateStatus(ctx context.Context, ds *appsv1.DaemonSet, nodes []*corev1.Node, hash string, observe bool) error {
	pods, err := c.claimPods(ctx, ds)
	if err != nil {
		return err
	}
	status := computeStatus(ds, nodes, groupByNode(pods), hash, metav1.Time{Time: c.clock.Now()})
	if err := storeStatus(ctx, c.client, ds, status, observe); err != nil {
		return err
	}
	if ds.Spec.MinReadySeconds > 0 && status.NumberReady != status.NumberAvailable {
		if key, ok := ctrl.Key(ds); ok {
			ctrl.Requeue(c.queue, key, time.Duration(ds.Spec.MinReadySeconds)*time.Second)
		}
	}
	return nil
}

// claim is ds claiming pods or revisions by its selector.
func (c *Controller) claim(ds *appsv1.DaemonSet, sel labels.Selector) ctrl.Claim {
	return ctrl.Claim{Owner: ds, Kind: gvk, Selector: sel,
		CanAdopt: ctrl.RecheckOwner(ds, func(ctx context.Context) (metav1.Object, error) {
			return c.client.AppsV1().DaemonSets(ds.Namespace).Get(ctx, ds.Name, metav1.GetOptions{})
		})}
}

// claimPods returns the pods ds controls, adopting matching orphans and
// releasing owned pods that no longer match.
func (c *Controller) claimPods(ctx context.Context, ds *appsv1.DaemonSet) ([]*corev1.Pod, error) {
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("daemonset: selector: %w", err)
	}
	all, err := c.podLister.Pods(ds.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	pods, err := ctrl.ClaimPods(ctx, c.client, c.claim(ds, sel), all)
	if err != nil {
		return nil, fmt.Errorf("daemonset: claim pods: %w", err)
	}
	return pods, nil
}
