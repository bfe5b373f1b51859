package scheduler

import (
	"context"
	"fmt"
	"log/slog"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/internal/scheduler/framework"
	"skiff.dev/internal/scheduler/queue"
)

// scheduleOne runs one scheduling cycle: pop a pod, pick its node from a
// fresh snapshot, assume it there and hand the binding to a worker. It
// returns false once the queue is closed.
func (s *Scheduler) scheduleOne(ctx context.Context) bool {
	qp, ok := s.queue.Pop()
	if !ok {
		return false
	}
	pod := qp.Pod
	if pod.DeletionTimestamp != nil {
		s.queue.Done(pod.UID)
		return true
	}
	s.counts.attempts.Add(1)
	s.cache.UpdateSnapshot(s.snapshot)
	state := framework.NewCycleState()
	res, err := s.algo.schedule(ctx, state, qp.PodInfo, s.snapshot)
	if err != nil {
		s.dispatch(s.failed(qp, err))
		return true
	}
	assumed := *pod // the pod's maps and slices are shared, never changed
	assumed.Spec.NodeName = res.node
	info := *qp.PodInfo
	info.Pod = &assumed
	if err := s.cache.AssumePod(&info); err != nil {
		s.dispatch(s.failed(qp, err))
		return true
	}
	if s.log.Enabled(ctx, slog.LevelDebug) {
		s.log.Debug("pod scheduled", "pod", pod.Namespace+"/"+pod.Name, "node", res.node,
			"evaluated", res.evaluated, "feasible", res.feasible)
	}
	s.dispatch(func(ctx context.Context) { s.bind(ctx, qp, &assumed) })
	return true
}

// bind posts the pod's Binding. On success the pod's flight ends; on
// failure the assumed pod is forgotten, its room offered to waiting pods,
// and it is queued again.
func (s *Scheduler) bind(ctx context.Context, qp *queue.QueuedPod, assumed *corev1.Pod) {
	b := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: assumed.Namespace, Name: assumed.Name, UID: assumed.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: assumed.Spec.NodeName},
	}
	if err := s.client.CoreV1().Pods(assumed.Namespace).Bind(ctx, b, metav1.CreateOptions{}); err != nil {
		s.cache.ForgetPod(assumed.UID)
		s.queue.MoveAll(framework.ClusterEvent{Resource: framework.AssignedPod, Action: framework.Delete})
		if ctx.Err() == nil {
			s.log.Info("binding failed", "pod", assumed.Namespace+"/"+assumed.Name, "node", assumed.Spec.NodeName, "err", err)
		}
		if update := s.failed(qp, fmt.Errorf("binding rejected: %w", err)); update != nil {
			update(ctx)
		}
		return
	}
	s.counts.bound.Add(1)
	s.queue.Done(assumed.UID)
	s.events.add(assumed, corev1.EventTypeNormal, "Scheduled", "Binding",
		fmt.Sprintf("Successfully assigned %v/%v to %v", assumed.Namespace, assumed.Name, assumed.Spec.NodeName))
}

// dispatch hands an API call to the workers.
func (s *Scheduler) dispatch(call func(context.Context)) {
	if call != nil {
		s.calls <- call
	}
}
