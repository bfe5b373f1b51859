// Package disruption is the disruption controller: it keeps the status of
// every PodDisruptionBudget current (how many of its pods are expected,
// must be healthy and are healthy, and so how many may be disrupted now),
// which the API server's eviction subresource spends. It also forgets
// evictions that never led to a deletion, and resets DisruptionTarget
// conditions left on pods that were not deleted after all.
package disruption

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	policylisters "k8s.io/client-go/listers/policy/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"skiff.dev/internal/controllers/ctrl"
)

// Name is the controller's name, for logs and leader election.
const Name = "disruption-controller"

// eventSource is the component upstream's disruption controller reports
// its events as.
const eventSource = "controllermanager"

// DeletionTimeout is how long an eviction recorded in a budget's
// status.disruptedPods keeps the pod out of the healthy count while the
// pod is not yet seen being deleted.
const DeletionTimeout = 2 * time.Minute

// StalePodDisruptionTimeout is how long a pod may carry a true
// DisruptionTarget condition without being deleted before the condition
// is reset to false.
var StalePodDisruptionTimeout = 2 * time.Minute

// Controller keeps PodDisruptionBudget statuses current.
type Controller struct {
	client   kubernetes.Interface
	pdbs     policylisters.PodDisruptionBudgetLister
	pods     corelisters.PodLister
	scales   *scales
	synced   []cache.InformerSynced
	queue    ctrl.Queue // budget keys
	stale    ctrl.Queue // pod keys with a DisruptionTarget condition
	recorder record.EventRecorder
	clock    clock.WithTicker
	log      *slog.Logger
	workers  int
}

// New builds the controller.
func New(cc *ctrl.Context) (ctrl.Controller, error) {
	pdbInf := cc.Informers.Policy().V1().PodDisruptionBudgets()
	podInf := cc.Informers.Core().V1().Pods()
	rsInf := cc.Informers.Apps().V1().ReplicaSets()
	dInf := cc.Informers.Apps().V1().Deployments()
	ssInf := cc.Informers.Apps().V1().StatefulSets()
	c := &Controller{
		client: cc.Client, pdbs: pdbInf.Lister(), pods: podInf.Lister(),
		scales: &scales{replicaSets: rsInf.Lister(), deployments: dInf.Lister(), statefulSets: ssInf.Lister()},
		queue:  newQueue("disruption", cc.Clock), stale: newQueue("stale_pod_disruption", cc.Clock),
		recorder: cc.Recorder(eventSource), clock: cc.Clock, log: cc.Log.With("controller", Name),
		workers: cc.Options.Workers,
	}
	if cc.Client != nil {
		if err := newGenericScales(c.scales, cc.Config, cc.Client.Discovery()); err != nil {
			return nil, err
		}
	}
	_, err := pdbInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { ctrl.Enqueue(c.queue, obj) },
		UpdateFunc: func(_, obj any) { ctrl.Enqueue(c.queue, obj) },
		DeleteFunc: func(obj any) { ctrl.Enqueue(c.queue, obj) },
	})
	if err != nil {
		return nil, fmt.Errorf("disruption: %w", err)
	}
	_, err = podInf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.podChanged(obj, true) },
		UpdateFunc: func(_, obj any) { c.podChanged(obj, true) },
		DeleteFunc: func(obj any) { c.podChanged(obj, false) },
	})
	if err != nil {
		return nil, fmt.Errorf("disruption: %w", err)
	}
	c.synced = []cache.InformerSynced{pdbInf.Informer().HasSynced, podInf.Informer().HasSynced,
		rsInf.Informer().HasSynced, dInf.Informer().HasSynced, ssInf.Informer().HasSynced}
	return c, nil
}

func newQueue(name string, clk clock.WithTicker) ctrl.Queue {
	return workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: name, Clock: clk})
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	defer c.queue.ShutDown()
	defer c.stale.ShutDown()
	if !ctrl.WaitForSync(ctx, c.synced...) {
		return
	}
	go ctrl.Workers(ctx, c.stale, 1, c.log, c.syncStale)
	ctrl.Workers(ctx, c.queue, c.workers, c.log, c.sync)
}

// podChanged queues the budgets covering a pod, and the pod itself when
// it carries a DisruptionTarget condition that may go stale.
func (c *Controller) podChanged(obj any, live bool) {
	m, ok := ctrl.Object(obj)
	if !ok {
		return
	}
	pod, ok := m.(*corev1.Pod)
	if !ok {
		return
	}
	if pdbs, err := c.pdbs.GetPodPodDisruptionBudgets(pod); err == nil {
		if len(pdbs) > 1 && live {
			c.recorder.Eventf(pod, corev1.EventTypeWarning, "MultiplePodDisruptionBudgets",
				"Pod %q/%q matches multiple PodDisruptionBudgets.  Chose %q arbitrarily.", pod.Namespace, pod.Name, pdbs[0].Name)
		}
		for _, pdb := range pdbs {
			ctrl.Enqueue(c.queue, pdb)
		}
	}
	if live {
		if stale, after := staleDisruption(pod, c.clock.Now(), StalePodDisruptionTimeout); stale {
			if k, ok := ctrl.Key(pod); ok {
				ctrl.Requeue(c.stale, k, after)
			}
		}
	}
}

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name := ctrl.SplitKey(key)
	pdb, err := c.pdbs.PodDisruptionBudgets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	err = c.trySync(ctx, pdb)
	if err == nil || apierrors.IsConflict(err) {
		return err
	}
	c.log.Warn("budget sync failed", "budget", key, "err", err)
	next := pdb.DeepCopy()
	next.Status = failedStatus(pdb, err, c.clock.Now())
	if _, uerr := c.client.PolicyV1().PodDisruptionBudgets(ns).UpdateStatus(ctx, next, metav1.UpdateOptions{}); uerr != nil {
		return uerr
	}
	return err
}

func (c *Controller) trySync(ctx context.Context, pdb *policyv1.PodDisruptionBudget) error {
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil {
		c.recorder.Eventf(pdb, corev1.EventTypeWarning, "NoPods", "Failed to get pods: %v", err)
		return err
	}
	pods, err := c.pods.Pods(pdb.Namespace).List(sel)
	if err != nil {
		c.recorder.Eventf(pdb, corev1.EventTypeWarning, "NoPods", "Failed to get pods: %v", err)
		return err
	}
	if len(pods) == 0 {
		c.recorder.Event(pdb, corev1.EventTypeNormal, "NoPods", "No matching pods found")
	}
	var unmanaged []string
	expected, desired, err := expectedAndDesired(pdb.Spec, int32(len(pods)), func() (int32, error) {
		n, u, err := expectedScale(pods, c.scales.finder(ctx))
		unmanaged = u
		return n, err
	})
	if err != nil {
		c.recorder.Eventf(pdb, corev1.EventTypeWarning, "CalculateExpectedPodCountFailed", "Failed to calculate the number of expected pods: %v", err)
		return err
	}
	if len(unmanaged) > 0 {
		c.recorder.Eventf(pdb, corev1.EventTypeWarning, "UnmanagedPods", "Pods selected by this PodDisruptionBudget (selector: %v) were found "+
			"to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. "+
			"To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value.", pdb.Spec.Selector)
	}
	now := c.clock.Now()
	disrupted, recheck, overdue := disruptedPods(pdb, pods, now)
	for _, pod := range overdue {
		c.recorder.Eventf(pod, corev1.EventTypeWarning, "NotDeleted", "Pod was expected by PDB %s/%s to be deleted but it wasn't", pdb.Namespace, pdb.Name)
	}
	obs := observation{expected: expected, desired: desired, healthy: countHealthy(pods, disrupted, now), disrupted: disrupted}
	if st, changed := nextStatus(pdb, obs, now); changed {
		next := pdb.DeepCopy()
		next.Status = st
		if _, err := c.client.PolicyV1().PodDisruptionBudgets(pdb.Namespace).UpdateStatus(ctx, next, metav1.UpdateOptions{}); err != nil {
			return err
		}
	}
	if recheck != nil {
		if k, ok := ctrl.Key(pdb); ok {
			ctrl.Requeue(c.queue, k, recheck.Sub(now))
		}
	}
	return nil
}
