// Package tainttoleration is the TaintToleration plugin. As a filter it
// keeps pods off nodes with NoSchedule or NoExecute taints they do not
// tolerate; as a score it prefers nodes with fewer untolerated
// PreferNoSchedule taints.
package tainttoleration

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"

	"skiff.dev/internal/scheduler/framework"
)

// Name is the plugin's name in the registry.
const Name = "TaintToleration"

// ErrReasonNotMatch is the reason a node with an untolerated taint gives.
// Upstream (since v1.34.2) leaves the taint's key and value out of pod
// statuses and events, as they may be sensitive.
const ErrReasonNotMatch = "node(s) had untolerated taint(s)"

// Plugin is the TaintToleration filter and score.
type Plugin struct{}

var (
	_ framework.FilterPlugin      = (*Plugin)(nil)
	_ framework.PreScorePlugin    = (*Plugin)(nil)
	_ framework.ScorePlugin       = (*Plugin)(nil)
	_ framework.ScoreNormalizer   = (*Plugin)(nil)
	_ framework.EnqueueExtensions = (*Plugin)(nil)
)

// New returns the plugin.
func New() *Plugin { return &Plugin{} }

// Name returns Name.
func (*Plugin) Name() string { return Name }

func hard(t *corev1.Taint) bool {
	return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
}

// Filter rejects a node with a NoSchedule or NoExecute taint the pod does
// not tolerate.
func (*Plugin) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	taints := node.Node.Spec.Taints
	if len(taints) == 0 {
		return nil
	}
	if _, untolerated := corev1helpers.FindMatchingUntoleratedTaint(taints, pod.Pod.Spec.Tolerations, hard); untolerated {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonNotMatch)
	}
	return nil
}

// PreScore skips scoring when no feasible node has a PreferNoSchedule
// taint: every node would score the same.
func (*Plugin) PreScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, nodes []*framework.NodeInfo) *framework.Status {
	for _, n := range nodes {
		for i := range n.Node.Spec.Taints {
			if n.Node.Spec.Taints[i].Effect == corev1.TaintEffectPreferNoSchedule {
				return nil
			}
		}
	}
	return framework.NewStatus(framework.Skip)
}

// Score counts the node's PreferNoSchedule taints the pod does not
// tolerate; NormalizeScore turns fewer into better.
func (*Plugin) Score(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	var n int64
	for i := range node.Node.Spec.Taints {
		t := &node.Node.Spec.Taints[i]
		if t.Effect == corev1.TaintEffectPreferNoSchedule && !corev1helpers.TolerationsTolerateTaint(pod.Pod.Spec.Tolerations, t) {
			n++
		}
	}
	return n, nil
}

// NormalizeScore maps the counts to 0–100, the fewest taints highest.
func (*Plugin) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, scores []int64) *framework.Status {
	framework.DefaultNormalizeScore(framework.MaxNodeScore, true, scores)
	return nil
}

// EventsToRegister: a new node, or a node's taints changing.
func (*Plugin) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{{Resource: framework.Node, Action: framework.Add | framework.UpdateNodeTaint}}
}
