// Package nodeaffinity is the NodeAffinity plugin. As a filter it keeps a
// pod on nodes matching its nodeSelector and its required node affinity;
// as a score it adds up the weights of the preferred terms a node matches.
package nodeaffinity

import (
	"context"
	"fmt"

	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"

	"skiff.dev/internal/scheduler/framework"
)

// Name is the plugin's name in the registry.
const Name = "NodeAffinity"

// ErrReasonPod is the reason a node not matching the pod's nodeSelector or
// required affinity gives.
const ErrReasonPod = "node(s) didn't match Pod's node affinity/selector"

const (
	preFilterKey framework.StateKey = "PreFilter" + Name
	preScoreKey  framework.StateKey = "PreScore" + Name
)

// Plugin is the NodeAffinity filter and score.
type Plugin struct{}

var (
	_ framework.PreFilterPlugin   = (*Plugin)(nil)
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

// PreFilter parses the pod's selector and required affinity once; pods with
// neither skip the filter.
func (*Plugin) PreFilter(_ context.Context, state *framework.CycleState, pod *framework.PodInfo) *framework.Status {
	spec := &pod.Pod.Spec
	hasRequired := spec.Affinity != nil && spec.Affinity.NodeAffinity != nil &&
		spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil
	if len(spec.NodeSelector) == 0 && !hasRequired {
		return framework.NewStatus(framework.Skip)
	}
	required := nodeaffinity.GetRequiredNodeAffinity(pod.Pod)
	state.Write(preFilterKey, &required)
	return nil
}

// Filter rejects nodes that do not match.
func (*Plugin) Filter(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	v, ok := state.Read(preFilterKey)
	var required nodeaffinity.RequiredNodeAffinity
	if ok {
		required = *v.(*nodeaffinity.RequiredNodeAffinity)
	} else {
		required = nodeaffinity.GetRequiredNodeAffinity(pod.Pod)
	}
	if match, _ := required.Match(node.Node); !match {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonPod)
	}
	return nil
}

// PreScore parses the preferred terms; pods without any skip the score.
func (*Plugin) PreScore(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, _ []*framework.NodeInfo) *framework.Status {
	a := pod.Pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || len(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	terms, err := nodeaffinity.NewPreferredSchedulingTerms(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution)
	if err != nil {
		return framework.AsStatus(fmt.Errorf("nodeaffinity: %w", err))
	}
	state.Write(preScoreKey, terms)
	return nil
}

// Score is the sum of the weights of the preferred terms the node matches.
func (*Plugin) Score(_ context.Context, state *framework.CycleState, _ *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	v, ok := state.Read(preScoreKey)
	if !ok {
		return 0, nil
	}
	return v.(*nodeaffinity.PreferredSchedulingTerms).Score(node.Node), nil
}

// NormalizeScore maps the sums to 0–100, the highest sum 100.
func (*Plugin) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, scores []int64) *framework.Status {
	framework.DefaultNormalizeScore(framework.MaxNodeScore, false, scores)
	return nil
}

// EventsToRegister: a new node, or a node's labels changing.
func (*Plugin) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{{Resource: framework.Node, Action: framework.Add | framework.UpdateNodeLabel}}
}
