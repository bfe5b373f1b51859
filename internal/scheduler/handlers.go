package scheduler

import (
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	toolscache "k8s.io/client-go/tools/cache"

	"skiff.dev/internal/scheduler/framework"
)

// addHandlers routes informer events: bound pods to the cache, pending
// pods of this scheduler to the queue, nodes to the cache; changes that
// may help waiting pods to the queue's MoveAll.
func (s *Scheduler) addHandlers() error {
	_, err := s.pods.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { s.podAdded(obj.(*corev1.Pod)) },
		UpdateFunc: func(old, cur any) { s.podUpdated(old.(*corev1.Pod), cur.(*corev1.Pod)) },
		DeleteFunc: func(obj any) {
			if pod := podOf(obj); pod != nil {
				s.podDeleted(pod)
			}
		},
	})
	if err != nil {
		return err
	}
	_, err = s.nodes.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			s.cache.AddNode(obj.(*corev1.Node))
			s.queue.MoveAll(framework.ClusterEvent{Resource: framework.Node, Action: framework.Add})
		},
		UpdateFunc: func(old, cur any) {
			oldNode, node := old.(*corev1.Node), cur.(*corev1.Node)
			s.cache.UpdateNode(node)
			if action := nodeChange(oldNode, node); action != 0 {
				s.queue.MoveAll(framework.ClusterEvent{Resource: framework.Node, Action: action})
			}
		},
		DeleteFunc: func(obj any) {
			switch n := obj.(type) {
			case *corev1.Node:
				s.cache.RemoveNode(n.Name)
			case toolscache.DeletedFinalStateUnknown:
				if n, ok := n.Obj.(*corev1.Node); ok {
					s.cache.RemoveNode(n.Name)
				}
			}
		},
	})
	return err
}

func podOf(obj any) *corev1.Pod {
	switch p := obj.(type) {
	case *corev1.Pod:
		return p
	case toolscache.DeletedFinalStateUnknown:
		pod, _ := p.Obj.(*corev1.Pod)
		return pod
	}
	return nil
}

func finished(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

// ours reports whether the pod is pending and names this scheduler.
func (s *Scheduler) ours(pod *corev1.Pod) bool {
	return pod.Spec.NodeName == "" && pod.Spec.SchedulerName == s.name && !finished(pod)
}

func (s *Scheduler) podAdded(pod *corev1.Pod) {
	switch {
	case pod.Spec.NodeName != "":
		if !finished(pod) {
			s.cache.AddPod(pod)
		}
	case s.ours(pod) && !s.cache.IsAssumed(pod.UID):
		s.queue.Add(pod)
	}
}

func (s *Scheduler) podUpdated(old, pod *corev1.Pod) {
	switch {
	case pod.Spec.NodeName != "" && finished(pod):
		s.podDeleted(pod)
	case pod.Spec.NodeName != "":
		if old.Spec.NodeName == "" {
			s.queue.Delete(pod.UID) // bound, by us or by someone else
		}
		s.cache.UpdatePod(pod)
	case s.ours(pod):
		// An assumed pod is being bound: its update is kept for the case
		// the binding fails, but must not queue the pod again once bound.
		if s.cache.IsAssumed(pod.UID) {
			s.queue.UpdateKnown(pod)
		} else {
			s.queue.Update(pod)
		}
	default:
		s.queue.Delete(pod.UID) // given to another scheduler, or finished
	}
}

// podDeleted handles a pod that is gone, or finished: its room on its node
// is free for waiting pods.
func (s *Scheduler) podDeleted(pod *corev1.Pod) {
	s.queue.Delete(pod.UID)
	if s.cache.RemovePod(pod.UID) {
		s.queue.MoveAll(framework.ClusterEvent{Resource: framework.AssignedPod, Action: framework.Delete})
	}
}

// nodeChange classifies a node update by what could make waiting pods fit:
// allocatable, labels, taints or spec.unschedulable. Heartbeats and other
// status changes give 0.
func nodeChange(old, cur *corev1.Node) framework.ActionType {
	var a framework.ActionType
	if !equality.Semantic.DeepEqual(old.Status.Allocatable, cur.Status.Allocatable) {
		a |= framework.UpdateNodeAllocatable
	}
	if !maps.Equal(old.Labels, cur.Labels) {
		a |= framework.UpdateNodeLabel
	}
	if old.Spec.Unschedulable != cur.Spec.Unschedulable ||
		!slices.EqualFunc(old.Spec.Taints, cur.Spec.Taints, func(a, b corev1.Taint) bool { return a.MatchTaint(&b) && a.Value == b.Value }) {
		a |= framework.UpdateNodeTaint
	}
	return a
}
