// Package noderesources holds the two plugins that look at what pods
// request and nodes can give: NodeResourcesFit, a filter (does the pod fit
// in what the node has left: cpu, memory, ephemeral-storage, pod count and
// extended resources) and a score (LeastAllocated by default, or
// MostAllocated), and NodeResourcesBalancedAllocation, a score that
// prefers nodes whose cpu and memory would be used in equal shares.
//
// Requests are the pod's as upstream counts them (framework.PodInfo):
// init containers, sidecars and overhead included. For scoring with
// LeastAllocated, containers without cpu or memory requests count 100m and
// 200Mi, so that pods without requests still spread.
package noderesources

import (
	corev1 "k8s.io/api/core/v1"

	"skiff.dev/internal/scheduler/framework"
)

// ResourceWeight is one resource a score looks at, and how much it counts.
type ResourceWeight struct {
	Name   corev1.ResourceName
	Weight int64
}

// defaultResources are the resources the scores weigh unless told others.
var defaultResources = []ResourceWeight{{corev1.ResourceCPU, 1}, {corev1.ResourceMemory, 1}}

// amounts returns what node has and what it would hold with pod on it, for
// one resource. nonZero counts cpu and memory with the defaults for
// containers that request none. A scalar resource the pod does not ask for
// gives 0, 0: the scores leave it out.
func amounts(pod *framework.PodInfo, node *framework.NodeInfo, name corev1.ResourceName, nonZero bool) (allocatable, requested int64) {
	switch name {
	case corev1.ResourceCPU:
		if nonZero {
			return node.Allocatable.MilliCPU, node.NonZeroMilliCPU + pod.NonZeroMilliCPU
		}
		return node.Allocatable.MilliCPU, node.Requested.MilliCPU + pod.Requests.MilliCPU
	case corev1.ResourceMemory:
		if nonZero {
			return node.Allocatable.Memory, node.NonZeroMemory + pod.NonZeroMemory
		}
		return node.Allocatable.Memory, node.Requested.Memory + pod.Requests.Memory
	case corev1.ResourceEphemeralStorage:
		return node.Allocatable.EphemeralStorage, node.Requested.EphemeralStorage + pod.Requests.EphemeralStorage
	}
	want := pod.Requests.Scalar[name]
	if want == 0 {
		return 0, 0
	}
	return node.Allocatable.Scalar[name], node.Requested.Scalar[name] + want
}
