package framework

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// NodeInfo is a node and the pods on it (bound, or assumed by the scheduler
// and not yet bound), with their sums kept up to date. Plugins read it and
// never change it: the scheduler's cache replaces a NodeInfo rather than
// changing one a snapshot may hold.
type NodeInfo struct {
	Node *corev1.Node
	Pods []*PodInfo
	// Allocatable is the node's status.allocatable.
	Allocatable Resource
	// Requested is the sum of the pods' Requests.
	Requested Resource
	// NonZeroMilliCPU and NonZeroMemory sum the pods' non-zero requests.
	NonZeroMilliCPU, NonZeroMemory int64
	// UsedPorts are the host ports the pods take.
	UsedPorts []HostPort
}

// NewNodeInfo returns the NodeInfo of a node holding pods; node may be nil
// while only pods are known.
func NewNodeInfo(node *corev1.Node, pods ...*PodInfo) *NodeInfo {
	n := &NodeInfo{}
	n.SetNode(node)
	for _, p := range pods {
		n.AddPod(p)
	}
	return n
}

// Name is the node's name, or "" before the node is known.
func (n *NodeInfo) Name() string {
	if n.Node == nil {
		return ""
	}
	return n.Node.Name
}

// SetNode sets or replaces the node object.
func (n *NodeInfo) SetNode(node *corev1.Node) {
	n.Node = node
	n.Allocatable = Resource{}
	if node != nil {
		n.Allocatable = NewResource(node.Status.Allocatable)
	}
}

// AddPod adds a pod and its requests and ports.
func (n *NodeInfo) AddPod(p *PodInfo) {
	n.Pods = append(n.Pods, p)
	n.Requested.Add(&p.Requests)
	n.NonZeroMilliCPU += p.NonZeroMilliCPU
	n.NonZeroMemory += p.NonZeroMemory
	n.UsedPorts = append(n.UsedPorts, p.HostPorts...)
}

// RemovePod removes the pod with the uid, reporting whether it was there.
func (n *NodeInfo) RemovePod(uid types.UID) bool {
	i := slices.IndexFunc(n.Pods, func(p *PodInfo) bool { return p.Pod.UID == uid })
	if i < 0 {
		return false
	}
	p := n.Pods[i]
	n.Pods = slices.Delete(n.Pods, i, i+1)
	n.Requested.Sub(&p.Requests)
	n.NonZeroMilliCPU -= p.NonZeroMilliCPU
	n.NonZeroMemory -= p.NonZeroMemory
	for _, hp := range p.HostPorts {
		if j := slices.Index(n.UsedPorts, hp); j >= 0 {
			n.UsedPorts = slices.Delete(n.UsedPorts, j, j+1)
		}
	}
	return true
}

// Clone returns a copy whose slices and maps are its own, so that the copy
// can change while the original stays as it was.
func (n *NodeInfo) Clone() *NodeInfo {
	c := *n
	c.Pods = append(make([]*PodInfo, 0, len(n.Pods)+1), n.Pods...) // room for the pod about to be added
	c.Allocatable = n.Allocatable.Clone()
	c.Requested = n.Requested.Clone()
	c.UsedPorts = slices.Clone(n.UsedPorts)
	return &c
}
