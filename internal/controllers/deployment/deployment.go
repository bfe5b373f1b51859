// Package deployment is the deployment controller: it runs a deployment's
// pods through ReplicaSets named <deployment>-<pod-template-hash>, one per
// pod template, and rolls from the old ones to the new one with the
// deployment's strategy (RollingUpdate within maxSurge and maxUnavailable,
// or Recreate). It numbers revisions in annotations, scales proportionally
// when replicas change mid-rollout, prunes old replica sets past
// revisionHistoryLimit, honours pause, and reports progress in the
// deployment's status and its Progressing and Available conditions.
//
// The decisions are pure functions over the deployment and its replica
// sets (rolling.go, scale.go, status.go, history.go); the Controller reads
// them from informers and carries them out through the client.
package deployment

import (
	"context"
	"fmt"
	"log/slog"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"skiff.dev/internal/controllers/ctrl"
)

// Name is the controller's name, for logs, events and --controllers.
const Name = "deployment-controller"

var kind = appsv1.SchemeGroupVersion.WithKind("Deployment")

// Controller rolls deployments out through replica sets.
type Controller struct {
	client   kubernetes.Interface
	recorder record.EventRecorder
	clock    clock.WithTicker
	log      *slog.Logger
	workers  int

	deployments appslisters.DeploymentLister
	replicaSets appslisters.ReplicaSetLister
	pods        corelisters.PodLister
	synced      []cache.InformerSynced

	queue ctrl.Queue
	// deadlines holds the re-checks of rollouts whose progress deadline
	// may pass; it runs on the controller's clock so tests can move time.
	deadlines workqueue.TypedDelayingInterface[string]
}

var _ ctrl.Controller = (*Controller)(nil)

// New builds the controller and registers its informers.
func New(cc *ctrl.Context) (ctrl.Controller, error) {
	c := &Controller{
		client:   cc.Client,
		recorder: cc.Recorder(Name),
		clock:    cc.Clock,
		log:      cc.Log.With("controller", Name),
		workers:  cc.Options.Workers,
		queue:    ctrl.NewQueue(Name),
		deadlines: workqueue.NewTypedDelayingQueueWithConfig(workqueue.TypedDelayingQueueConfig[string]{
			Name: Name + "-deadlines", Clock: cc.Clock}),
	}
	dInf := cc.Informers.Apps().V1().Deployments()
	rsInf := cc.Informers.Apps().V1().ReplicaSets()
	podInf := cc.Informers.Core().V1().Pods()
	c.deployments, c.replicaSets, c.pods = dInf.Lister(), rsInf.Lister(), podInf.Lister()
	c.synced = []cache.InformerSynced{dInf.Informer().HasSynced, rsInf.Informer().HasSynced, podInf.Informer().HasSynced}

	enqueue := func(obj any) { ctrl.Enqueue(c.queue, obj) }
	handlers := []struct {
		inf cache.SharedIndexInformer
		h   cache.ResourceEventHandler
	}{
		{dInf.Informer(), cache.ResourceEventHandlerFuncs{AddFunc: enqueue,
			UpdateFunc: func(_, obj any) { enqueue(obj) }, DeleteFunc: enqueue}},
		{rsInf.Informer(), cache.ResourceEventHandlerFuncs{AddFunc: c.addRS, UpdateFunc: c.updateRS, DeleteFunc: c.deleteRS}},
		{podInf.Informer(), cache.ResourceEventHandlerFuncs{UpdateFunc: c.updatePod, DeleteFunc: c.deletePod}},
	}
	for _, h := range handlers {
		if _, err := h.inf.AddEventHandler(h.h); err != nil {
			return nil, fmt.Errorf("deployment: %w", err)
		}
	}
	return c, nil
}

// Run syncs deployments until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	defer c.deadlines.ShutDown()
	if !ctrl.WaitForSync(ctx, c.synced...) {
		c.queue.ShutDown()
		return
	}
	go func() {
		for {
			key, quit := c.deadlines.Get()
			if quit {
				return
			}
			c.queue.Add(key)
			c.deadlines.Done(key)
		}
	}()
	ctrl.Workers(ctx, c.queue, c.workers, c.log, c.sync)
}

// sync brings one deployment a step closer to its spec.
func (c *Controller) sync(ctx context.Context, key string) error {
	namespace, name := ctrl.SplitKey(key)
	cached, err := c.deployments.Deployments(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	d := cached.DeepCopy()
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		c.log.Warn("invalid selector", "deployment", key, "err", err)
		return nil
	}
	if selector.Empty() {
		c.recorder.Event(d, corev1.EventTypeWarning, "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.")
		if d.Status.ObservedGeneration < d.Generation {
			d.Status.ObservedGeneration = d.Generation
			return c.writeStatus(ctx, d)
		}
		return nil
	}
	rss, err := c.claimReplicaSets(ctx, d, selector)
	if err != nil {
		return err
	}
	if d.DeletionTimestamp != nil {
		newRS, old := splitNewOld(d, rss)
		return c.syncStatus(ctx, d, withNew(old, newRS), newRS)
	}
	if pausedCondition(d, c.clock.Now()) {
		if err := c.writeStatus(ctx, d); err != nil {
			return err
		}
	}
	if d.Spec.Paused || isScalingEvent(d, rss) {
		return c.syncScale(ctx, d, rss)
	}
	switch d.Spec.Strategy.Type {
	case appsv1.RecreateDeploymentStrategyType:
		pods, err := c.podsByReplicaSet(d, selector, rss)
		if err != nil {
			return err
		}
		return c.rolloutRecreate(ctx, d, rss, pods)
	case appsv1.RollingUpdateDeploymentStrategyType:
		return c.rolloutRolling(ctx, d, rss)
	}
	return fmt.Errorf("deployment: unexpected strategy type %q", d.Spec.Strategy.Type)
}

// claimReplicaSets returns the replica sets the deployment controls,
// adopting matching orphans and releasing owned ones that stopped
// matching.
func (c *Controller) claimReplicaSets(ctx context.Context, d *appsv1.Deployment, selector labels.Selector) ([]*appsv1.ReplicaSet, error) {
	all, err := c.replicaSets.ReplicaSets(d.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	claim := ctrl.Claim{Owner: d, Kind: kind, Selector: selector,
		CanAdopt: ctrl.RecheckOwner(d, func(ctx context.Context) (metav1.Object, error) {
			return c.client.AppsV1().Deployments(d.Namespace).Get(ctx, d.Name, metav1.GetOptions{})
		})}
	return ctrl.ClaimObjects(ctx, claim, all, ReplicaSetPatcher(c.client))
}

// ReplicaSetPatcher applies strategic merge patches to replica sets, for
// ctrl.ClaimObjects.
func ReplicaSetPatcher(client kubernetes.Interface) ctrl.Patcher {
	return func(ctx context.Context, namespace, name string, patch []byte) error {
		_, err := client.AppsV1().ReplicaSets(namespace).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
		return err
	}
}

// podsByReplicaSet groups the deployment's pods by the replica set (of
// rss) that controls them.
func (c *Controller) podsByReplicaSet(d *appsv1.Deployment, selector labels.Selector, rss []*appsv1.ReplicaSet) (map[types.UID][]*corev1.Pod, error) {
	pods, err := c.pods.Pods(d.Namespace).List(selector)
	if err != nil {
		return nil, err
	}
	out := make(map[types.UID][]*corev1.Pod, len(rss))
	for _, rs := range rss {
		out[rs.UID] = nil
	}
	for _, p := range pods {
		ref := metav1.GetControllerOfNoCopy(p)
		if ref == nil {
			continue
		}
		if _, ok := out[ref.UID]; ok {
			out[ref.UID] = append(out[ref.UID], p)
		}
	}
	return out, nil
}
