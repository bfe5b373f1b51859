package taintevict

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/clock"

	"skiff.dev/internal/controllers/ctrl"
)

// The DisruptionTarget condition and the event upstream's taint manager
// leave on the pods it deletes.
const (
	reasonEviction   = "TaintManagerEviction"
	reasonDisruption = "DeletionByTaintManager"
	messageDisrupted = "Taint manager: deleting due to NoExecute taint"
)

var everything = labels.Everything()

// eviction is one pod's scheduled deletion.
type eviction struct {
	uid   types.UID
	since time.Time // when the taints were first seen to require it
	at    time.Time // when it falls due
	stop  func()    // cancels the timer, if one runs
	done  bool      // the pod was deleted; nothing more to do
}

// consider schedules, moves or cancels the eviction of a pod given its
// node's NoExecute taints.
func (c *Controller) consider(key string, pod *corev1.Pod, taints []corev1.Taint) {
	evict, after := decide(taints, pod.Spec.Tolerations)
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.scheduled[key]
	if e != nil && e.uid != pod.UID {
		c.stop(key)
		e = nil
	}
	if !evict {
		if e != nil {
			c.stop(key)
			if !e.done {
				c.recorder.Eventf(podRef(pod), corev1.EventTypeNormal, reasonEviction, "Cancelling deletion of Pod %s", key)
			}
		}
		return
	}
	if e == nil {
		e = &eviction{uid: pod.UID, since: now}
		c.scheduled[key] = e
	}
	at := e.since.Add(after)
	if e.done || (!e.at.IsZero() && at.Equal(e.at)) {
		return
	}
	if e.stop != nil {
		e.stop()
		e.stop = nil
	}
	e.at = at
	if !at.After(now) {
		c.queue.Add(key)
		return
	}
	e.stop = afterFunc(c.clock, at.Sub(now), func() { c.queue.Add(key) })
}

// forget drops a pod's eviction, e.g. when the pod is gone.
func (c *Controller) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stop(key)
}

// stop drops an eviction; c.mu is held.
func (c *Controller) stop(key string) {
	if e := c.scheduled[key]; e != nil && e.stop != nil {
		e.stop()
	}
	delete(c.scheduled, key)
}

// evict deletes a pod whose eviction fell due, if it still must go.
func (c *Controller) evict(ctx context.Context, key string) error {
	c.mu.Lock()
	e := c.scheduled[key]
	if e == nil || e.done || c.clock.Now().Before(e.at) {
		c.mu.Unlock()
		return nil
	}
	uid := e.uid
	c.mu.Unlock()

	namespace, name := ctrl.SplitKey(key)
	pod, err := c.pods.Pods(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		c.forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	if pod.UID != uid || pod.Spec.NodeName == "" {
		return nil
	}
	node, err := c.nodes.Get(pod.Spec.NodeName)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if must, _ := decide(noExecute(node), pod.Spec.Tolerations); !must {
		return nil
	}
	if pod.DeletionTimestamp == nil {
		c.recorder.Eventf(podRef(pod), corev1.EventTypeNormal, reasonEviction, "Marking for deletion Pod %s", key)
		if err := c.markDisrupted(ctx, pod); err != nil {
			return err
		}
		err := c.client.CoreV1().Pods(namespace).Delete(ctx, name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("taintevict: delete pod %s: %w", key, err)
		}
	}
	c.mu.Lock()
	if e := c.scheduled[key]; e != nil && e.uid == uid {
		e.done = true
	}
	c.mu.Unlock()
	return nil
}

// markDisrupted gives the pod the DisruptionTarget condition.
func (c *Controller) markDisrupted(ctx context.Context, pod *corev1.Pod) error {
	pods := c.client.CoreV1().Pods(pod.Namespace)
	current := pod.DeepCopy()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if !disrupt(current, metav1.NewTime(c.clock.Now())) {
			return nil
		}
		_, err := pods.UpdateStatus(ctx, current, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			fresh, gerr := pods.Get(ctx, pod.Name, metav1.GetOptions{})
			if gerr != nil {
				return gerr
			}
			if fresh.UID != pod.UID {
				return apierrors.NewNotFound(corev1.Resource("pods"), pod.Name)
			}
			current = fresh
		}
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("taintevict: condition on pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// disrupt sets the DisruptionTarget condition on pod and reports whether
// it changed.
func disrupt(pod *corev1.Pod, now metav1.Time) bool {
	want := corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
		Reason: reasonDisruption, Message: messageDisrupted, LastTransitionTime: now}
	for i, cond := range pod.Status.Conditions {
		if cond.Type != corev1.DisruptionTarget {
			continue
		}
		if cond.Status == want.Status && cond.Reason == want.Reason && cond.Message == want.Message {
			return false
		}
		pod.Status.Conditions[i] = want
		return true
	}
	pod.Status.Conditions = append(pod.Status.Conditions, want)
	return true
}

// afterFunc calls f after d on clk and returns what cancels it.
func afterFunc(clk clock.Clock, d time.Duration, f func()) func() {
	if dc, ok := clk.(clock.WithDelayedExecution); ok {
		t := dc.AfterFunc(d, f)
		return func() { t.Stop() }
	}
	t := clk.NewTimer(d)
	done := make(chan struct{})
	go func() {
		select {
		case <-t.C():
			f()
		case <-done:
		}
	}()
	return func() {
		if t.Stop() {
			close(done)
		}
	}
}

func podRef(pod *corev1.Pod) *corev1.ObjectReference {
	return &corev1.ObjectReference{APIVersion: "v1", Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID}
}
