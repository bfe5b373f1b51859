package framework

import (
	"context"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
)

// What upstream's DefaultPreemption says when it finds nothing to preempt.
const (
	// PreemptionNotHelpful is the reason of a node where evicting pods
	// cannot help: its filters rejected the pod as unresolvable (taints,
	// node affinity, a request larger than the whole node…).
	PreemptionNotHelpful = "Preemption is not helpful for scheduling"
	// NoPreemptionVictims is the reason of a node where evicting pods
	// could help but none has a lower priority than the pod.
	NoPreemptionVictims = "No preemption victims found for incoming pod"
	// PreemptionNeverMsg is the whole preemption part for pods with
	// preemptionPolicy: Never.
	PreemptionNeverMsg = "not eligible due to preemptionPolicy=Never."
)

// PreemptionMessage returns the "preemption: …" part of the message of a
// pod that fits none of nodes, worked out node by node as upstream's
// DefaultPreemption does before it picks victims. state and diag are the
// failed cycle's.
//
// A node whose rejection was unresolvable counts as PreemptionNotHelpful.
// On a node rejected as Unschedulable, the pods of lower priority than
// the pod (spec.priority, nil being 0) are the possible victims: with
// none, the node counts as NoPreemptionVictims; otherwise the filters run
// again on the node without them, and if the pod still does not fit, the
// node counts with the reasons they give now.
//
// If the pod would fit once they were gone, upstream would evict them
// and write no preemption part. skiff does not preempt, so such a node
// stays as the filters found it and counts with its reasons from the
// cycle: "1 Insufficient cpu" is true of the node as it is and will
// stay. NoPreemptionVictims would not be: there are pods preemption could
// evict.
//
// It runs only for pods that fit no node, one node after another.
func (f *Framework) PreemptionMessage(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo, diag *Diagnosis) string {
	const prefix = "preemption: "
	if p := pod.Pod.Spec.PreemptionPolicy; p != nil && *p == corev1.PreemptNever {
		return prefix + PreemptionNeverMsg
	}
	statuses := map[string]*Status{}
	var errs []error
	for _, n := range nodes {
		s := f.preemptionStatus(ctx, state, pod, n, diag)
		switch {
		case s == nil:
		case s.Code() == Error:
			errs = append(errs, s.AsError())
		default:
			statuses[n.Name()] = s
		}
	}
	if len(errs) > 0 {
		return prefix + utilerrors.NewAggregate(errs).Error()
	}
	reasons := histogram(len(nodes), statuses, PreemptionNotHelpful)
	return prefix + fmt.Sprintf(NoNodeAvailableMsg+": %s.", len(nodes), strings.Join(reasons, ", "))
}

// preemptionStatus is what the dry run says of one node, or nil where
// preemption is not helpful.
func (f *Framework) preemptionStatus(ctx context.Context, state *CycleState, pod *PodInfo, n *NodeInfo, diag *Diagnosis) *Status {
	s, ok := diag.NodeToStatus[n.Name()]
	if !ok {
		s = diag.PreFilterStatus // a PreFilter rejection stands for every node
	}
	if s.Code() != Unschedulable {
		return nil
	}
	priority := corev1helpers.PodPriority(pod.Pod)
	lower := func(p *PodInfo) bool { return corev1helpers.PodPriority(p.Pod) < priority }
	if !slices.ContainsFunc(n.Pods, lower) {
		return NewStatus(UnschedulableAndUnresolvable, NoPreemptionVictims)
	}
	if !ok {
		return s // a PreFilter looks at no node: evicting pods changes nothing
	}
	kept := make([]*PodInfo, 0, len(n.Pods))
	for _, p := range n.Pods {
		if !lower(p) {
			kept = append(kept, p)
		}
	}
	// No plugin keeps state about a node's pods in the CycleState (upstream's
	// PreFilter extensions), so the cycle's state serves as it is.
	after := f.RunFilter(ctx, state, pod, NewNodeInfo(n.Node, kept...))
	if after.IsSuccess() {
		return s // would fit after evicting, but skiff does not evict
	}
	return after
}
