// Package podgc is the pod garbage collector. Every CheckPeriod it
// force-deletes pods nobody else will clean up: terminated pods above the
// TerminatedPodGCThreshold (oldest first), pods bound to a node that no
// longer exists (after a quarantine and a live check, marked with a
// DisruptionTarget condition first), pods deleted before they were
// scheduled, and terminating pods on a node declared out of service.
package podgc

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"skiff.dev/internal/controllers/ctrl"
)

// Name is the controller's name, for logs and --controllers.
const Name = "pod-garbage-collector-controller"

// CheckPeriod is how often the collector looks (upstream's 20 s).
var CheckPeriod = 20 * time.Second

// Quarantine is how long a node must have been missing from the cache
// before its pods are collected (upstream's 40 s).
var Quarantine = 40 * time.Second

// Controller is the pod garbage collector.
type Controller struct {
	client    kubernetes.Interface
	pods      corelisters.PodLister
	nodes     corelisters.NodeLister
	synced    []cache.InformerSynced
	clock     clock.WithTicker
	threshold int
	log       *slog.Logger

	// missingSince is when each node pods are bound to was first seen
	// missing; only Run's goroutine uses it.
	missingSince map[string]time.Time
}

// New builds the collector on the shared pod and node informers.
func New(cc *ctrl.Context) (ctrl.Controller, error) {
	podInf := cc.Informers.Core().V1().Pods()
	nodeInf := cc.Informers.Core().V1().Nodes()
	return &Controller{
		client:       cc.Client,
		pods:         podInf.Lister(),
		nodes:        nodeInf.Lister(),
		synced:       []cache.InformerSynced{podInf.Informer().HasSynced, nodeInf.Informer().HasSynced},
		clock:        cc.Clock,
		threshold:    cc.Options.TerminatedPodGCThreshold,
		log:          cc.Log.With("controller", Name),
		missingSince: map[string]time.Time{},
	}, nil
}

// Run collects every CheckPeriod until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	if !ctrl.WaitForSync(ctx, c.synced...) {
		return
	}
	ctrl.Every(ctx, c.clock, CheckPeriod, true, c.gc)
}

func (c *Controller) gc(ctx context.Context) {
	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		c.log.Error("podgc: listing pods", "err", err)
		return
	}
	nodeList, err := c.nodes.List(labels.Everything())
	if err != nil {
		c.log.Error("podgc: listing nodes", "err", err)
		return
	}
	nodes := make(map[string]*corev1.Node, len(nodeList))
	for _, n := range nodeList {
		nodes[n.Name] = n
	}
	if c.threshold > 0 {
		if doomed := terminatedOverThreshold(pods, c.threshold); len(doomed) > 0 {
			c.log.Info("garbage collecting terminated pods", "count", len(doomed))
			c.deleteAll(ctx, doomed, nil)
		}
	}
	c.deleteAll(ctx, terminatingOutOfService(pods, nodes), nil)
	c.deleteAll(ctx, onNodes(pods, c.deletedNodes(ctx, missingNodes(pods, nodes))), &corev1.PodCondition{
		Type:    corev1.DisruptionTarget,
		Status:  corev1.ConditionTrue,
		Reason:  "DeletionByPodGC",
		Message: "PodGC: node no longer exists",
	})
	c.deleteAll(ctx, unscheduledTerminating(pods), nil)
}

// deletedNodes returns the missing nodes past their quarantine that a live
// read confirms are gone.
func (c *Controller) deletedNodes(ctx context.Context, missing map[string]bool) map[string]bool {
	gone := map[string]bool{}
	for _, name := range dueForCheck(c.missingSince, missing, c.clock.Now(), Quarantine) {
		_, err := c.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			gone[name] = true
		case err != nil:
			c.log.Warn("podgc: checking node", "node", name, "err", err)
		default:
			// The cache lagged; start over if it goes missing again.
			delete(c.missingSince, name)
		}
	}
	return gone
}

// deleteAll force-deletes pods in parallel.
func (c *Controller) deleteAll(ctx context.Context, pods []*corev1.Pod, cond *corev1.PodCondition) {
	var wg sync.WaitGroup
	for _, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.failAndDelete(ctx, p, cond); err != nil {
				c.log.Warn("podgc: deleting pod", "namespace", p.Namespace, "pod", p.Name, "err", err)
			}
		}()
	}
	wg.Wait()
}

// failAndDelete moves a pod that has not finished to Failed (with cond,
// when given), as no kubelet may ever do it, then deletes it with no grace
// period.
func (c *Controller) failAndDelete(ctx context.Context, p *corev1.Pod, cond *corev1.PodCondition) error {
	c.log.Info("force deleting pod", "namespace", p.Namespace, "pod", p.Name, "node", p.Spec.NodeName)
	if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
		patch, err := failedPatch(p.UID, cond, metav1.NewTime(c.clock.Now()))
		if err != nil {
			return err
		}
		_, err = c.client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch,
			metav1.PatchOptions{}, "status")
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("podgc: mark %s/%s failed: %w", p.Namespace, p.Name, err)
		}
	}
	uid := p.UID
	err := c.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{
		GracePeriodSeconds: new(int64), Preconditions: &metav1.Preconditions{UID: &uid}})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// failedPatch is the status patch that moves a pod to Failed, adding or
// replacing cond.
func failedPatch(uid types.UID, cond *corev1.PodCondition, now metav1.Time) ([]byte, error) {
	status := map[string]any{"phase": corev1.PodFailed}
	if cond != nil {
		cc := *cond
		cc.LastTransitionTime = now
		status["conditions"] = []corev1.PodCondition{cc}
	}
	return json.Marshal(map[string]any{"metadata": map[string]any{"uid": uid}, "status": status})
}
