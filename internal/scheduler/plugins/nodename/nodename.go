// Package nodename is the NodeName filter: a pod that names its node in
// spec.nodeName fits only that node.
//
// The scheduler only takes pods without a node name, so in a scheduling
// cycle the plugin always skips; it matters to anyone running the
// framework to ask "would this pod fit there", as upstream's does.
package nodename

import (
	"context"

	"skiff.dev/internal/scheduler/framework"
)

// Name is the plugin's name in the registry.
const Name = "NodeName"

// ErrReason is the reason a node of another name gives.
const ErrReason = "node(s) didn't match the requested node name"

// Plugin is the NodeName filter.
type Plugin struct{}

var (
	_ framework.PreFilterPlugin   = (*Plugin)(nil)
	_ framework.FilterPlugin      = (*Plugin)(nil)
	_ framework.EnqueueExtensions = (*Plugin)(nil)
)

// New returns the plugin.
func New() *Plugin { return &Plugin{} }

// Name returns Name.
func (*Plugin) Name() string { return Name }

// PreFilter skips the filter for pods that name no node.
func (*Plugin) PreFilter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo) *framework.Status {
	if pod.Pod.Spec.NodeName == "" {
		return framework.NewStatus(framework.Skip)
	}
	return nil
}

// Filter rejects every node but the named one.
func (*Plugin) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	if want := pod.Pod.Spec.NodeName; want != "" && want != node.Name() {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReason)
	}
	return nil
}

// EventsToRegister: only a new node can be the named one.
func (*Plugin) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{{Resource: framework.Node, Action: framework.Add}}
}
