package disruption

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/internal/controllers/ctrl"
)

// staleDisruption reports whether a pod carries a true DisruptionTarget
// condition that will be stale once timeout has passed since it was set
// without the pod being deleted, and how long until then. Conditions the
// node agent set, and those on finished pods, never go stale.
func staleDisruption(pod *corev1.Pod, now time.Time, timeout time.Duration) (bool, time.Duration) {
	if pod.DeletionTimestamp != nil {
		return false, 0
	}
	switch pod.Status.Phase {
	case corev1.PodSucceeded, corev1.PodFailed:
		return false, 0
	}
	c := podCondition(pod, corev1.DisruptionTarget)
	if c == nil || c.Status != corev1.ConditionTrue || c.Reason == corev1.PodReasonTerminationByKubelet {
		return false, 0
	}
	return true, max(0, timeout-now.Sub(c.LastTransitionTime.Time))
}

func podCondition(pod *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == t {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

// syncStale resets a stale DisruptionTarget condition to false.
func (c *Controller) syncStale(ctx context.Context, key string) error {
	ns, name := ctrl.SplitKey(key)
	pod, err := c.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	now := c.clock.Now()
	stale, after := staleDisruption(pod, now, StalePodDisruptionTimeout)
	if !stale {
		return nil
	}
	if after > 0 {
		ctrl.Requeue(c.stale, key, after)
		return nil
	}
	next := pod.DeepCopy()
	cond := podCondition(next, corev1.DisruptionTarget)
	*cond = corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionFalse,
		LastTransitionTime: metav1.NewTime(now.Truncate(time.Second))}
	_, err = c.client.CoreV1().Pods(ns).UpdateStatus(ctx, next, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
