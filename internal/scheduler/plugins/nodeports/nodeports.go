// Package nodeports is the NodePorts filter: a pod asking for host ports
// fits only nodes where no other pod holds one of them on an overlapping
// address and protocol.
package nodeports

import (
	"context"

	"skiff.dev/internal/scheduler/framework"
)

// Name is the plugin's name in the registry.
const Name = "NodePorts"

// ErrReason is the reason a node with a taken port gives.
const ErrReason = "node(s) didn't have free ports for the requested pod ports"

// Plugin is the NodePorts filter.
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

// PreFilter skips the filter for pods without host ports.
func (*Plugin) PreFilter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo) *framework.Status {
	if len(pod.HostPorts) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	return nil
}

// Filter rejects a node where one of the pod's host ports is taken.
func (*Plugin) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	for _, want := range pod.HostPorts {
		for _, used := range node.UsedPorts {
			if want.Conflicts(used) {
				return framework.NewStatus(framework.Unschedulable, ErrReason)
			}
		}
	}
	return nil
}

// EventsToRegister: a new node, or a pod on a node going away.
func (*Plugin) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{
		{Resource: framework.Node, Action: framework.Add},
		{Resource: framework.AssignedPod, Action: framework.Delete},
	}
}
