package scheduler

import (
	"context"
	"encoding/json"
	"errors"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"skiff.dev/internal/scheduler/framework"
	"skiff.dev/internal/scheduler/queue"
)

// maxEventNote is the longest note an events.k8s.io Event may carry.
const maxEventNote = 1024

// failed handles a pod whose cycle or binding failed: unless the pod is
// gone or bound meanwhile, it is queued again, gets a FailedScheduling
// event, and its PodScheduled condition is to say why (reason
// Unschedulable when no node fits, SchedulerError otherwise): failed
// returns that status update for the caller to run or hand to a worker, or
// nil when there is nothing to update.
func (s *Scheduler) failed(qp *queue.QueuedPod, err error) func(context.Context) {
	pod := qp.Pod
	reason, rejected := corev1.PodReasonSchedulerError, false
	var fitErr *framework.FitError
	switch {
	case errors.As(err, &fitErr):
		reason, rejected = corev1.PodReasonUnschedulable, true
		qp.UnschedulablePlugins = fitErr.Diagnosis.UnschedulablePlugins
	case errors.Is(err, errNoNodesAvailable):
		reason, rejected = corev1.PodReasonUnschedulable, true
		qp.UnschedulablePlugins = nil
	}
	if rejected {
		s.counts.unschedulable.Add(1)
	} else {
		s.counts.errors.Add(1)
	}
	cur, getErr := s.podLister.Pods(pod.Namespace).Get(pod.Name)
	if getErr != nil || cur.UID != pod.UID || cur.Spec.NodeName != "" || cur.DeletionTimestamp != nil {
		s.queue.Done(pod.UID)
		return nil
	}
	s.queue.Requeue(qp, rejected)
	msg := err.Error()
	s.log.Info("pod not scheduled", "pod", pod.Namespace+"/"+pod.Name, "reason", reason, "message", msg)
	s.events.add(cur, corev1.EventTypeWarning, "FailedScheduling", "Scheduling", truncate(msg, maxEventNote))
	if c := podScheduledCondition(cur); c != nil && c.Status == corev1.ConditionFalse && c.Reason == reason && c.Message == msg {
		return nil
	}
	return func(ctx context.Context) { s.setUnscheduled(ctx, cur, reason, msg) }
}

// setUnscheduled patches the pod's PodScheduled condition to False.
func (s *Scheduler) setUnscheduled(ctx context.Context, pod *corev1.Pod, reason, msg string) {
	cond := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: reason, Message: msg,
		LastTransitionTime: metav1.Now().Rfc3339Copy()}
	if c := podScheduledCondition(pod); c != nil && c.Status == corev1.ConditionFalse {
		cond.LastTransitionTime = c.LastTransitionTime
	}
	patch, err := json.Marshal(map[string]any{"status": map[string]any{"conditions": []corev1.PodCondition{cond}}})
	if err != nil {
		return
	}
	_, err = s.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	if err != nil && !apierrors.IsNotFound(err) && ctx.Err() == nil {
		s.log.Info("updating pod condition failed", "pod", pod.Namespace+"/"+pod.Name, "err", err)
	}
}

func podScheduledCondition(pod *corev1.Pod) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodScheduled {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

// truncate cuts s to at most n bytes, marking the cut with "...".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
