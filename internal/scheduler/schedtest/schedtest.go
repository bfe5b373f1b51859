// Package schedtest holds fluent builders of pods and nodes for the
// scheduler's tests, in the style of upstream's scheduler testing package:
//
//	pod := schedtest.MakePod().Name("p").Req("cpu", "500m").Obj()
//	node := schedtest.MakeNode().Name("n1").Capacity("cpu", "2", "pods", "110").Obj()
//
// Builders never fail: quantities are parsed with resource.MustParse.
package schedtest

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// resources turns "name", "quantity" pairs into a resource list.
func resources(pairs []string) corev1.ResourceList {
	if len(pairs)%2 != 0 {
		panic("schedtest: resources come in name, quantity pairs")
	}
	rl := corev1.ResourceList{}
	for i := 0; i < len(pairs); i += 2 {
		rl[corev1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return rl
}

// NodeWrapper builds a Node.
type NodeWrapper struct{ corev1.Node }

// MakeNode starts a node with no capacity.
func MakeNode() *NodeWrapper { return &NodeWrapper{} }

// Obj returns the node.
func (n *NodeWrapper) Obj() *corev1.Node { return &n.Node }

// Name sets the name (and a UID derived from it).
func (n *NodeWrapper) Name(name string) *NodeWrapper {
	n.Node.Name, n.UID = name, types.UID("node-"+name)
	return n
}

// Capacity sets capacity and allocatable from "name", "quantity" pairs.
func (n *NodeWrapper) Capacity(pairs ...string) *NodeWrapper {
	n.Status.Capacity = resources(pairs)
	n.Status.Allocatable = resources(pairs)
	return n
}

// Label adds a label.
func (n *NodeWrapper) Label(k, v string) *NodeWrapper {
	if n.Labels == nil {
		n.Labels = map[string]string{}
	}
	n.Labels[k] = v
	return n
}

// Taint adds a taint.
func (n *NodeWrapper) Taint(key, value string, effect corev1.TaintEffect) *NodeWrapper {
	n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: key, Value: value, Effect: effect})
	return n
}

// Unschedulable sets spec.unschedulable (cordoned).
func (n *NodeWrapper) Unschedulable() *NodeWrapper {
	n.Spec.Unschedulable = true
	return n
}

// PodWrapper builds a Pod.
type PodWrapper struct{ corev1.Pod }

// MakePod starts a pod in namespace "default" for the default scheduler.
func MakePod() *PodWrapper {
	p := &PodWrapper{}
	p.Pod.Namespace = metav1.NamespaceDefault
	p.Spec.SchedulerName = corev1.DefaultSchedulerName
	return p
}

// Obj returns the pod.
func (p *PodWrapper) Obj() *corev1.Pod { return &p.Pod }

// Name sets the name (and a UID derived from it).
func (p *PodWrapper) Name(name string) *PodWrapper {
	p.Pod.Name, p.UID = name, types.UID("pod-"+name)
	return p
}

// Namespace sets the namespace.
func (p *PodWrapper) Namespace(ns string) *PodWrapper {
	p.Pod.Namespace = ns
	return p
}

// Node sets spec.nodeName.
func (p *PodWrapper) Node(name string) *PodWrapper {
	p.Spec.NodeName = name
	return p
}

// Container adds a container requesting the "name", "quantity" pairs.
func (p *PodWrapper) Container(pairs ...string) *PodWrapper {
	c := corev1.Container{Name: "c" + string(rune('0'+len(p.Spec.Containers))), Image: "pause"}
	if len(pairs) > 0 {
		c.Resources.Requests = resources(pairs)
	}
	p.Spec.Containers = append(p.Spec.Containers, c)
	return p
}

// Req adds a container requesting the "name", "quantity" pairs; the same
// as Container, read as "the pod requests".
func (p *PodWrapper) Req(pairs ...string) *PodWrapper { return p.Container(pairs...) }

// InitReq adds an init container requesting the pairs.
func (p *PodWrapper) InitReq(pairs ...string) *PodWrapper {
	c := corev1.Container{Name: "init" + string(rune('0'+len(p.Spec.InitContainers))), Image: "pause",
		Resources: corev1.ResourceRequirements{Requests: resources(pairs)}}
	p.Spec.InitContainers = append(p.Spec.InitContainers, c)
	return p
}

// SidecarReq adds a restartable init container (a sidecar) requesting the
// pairs.
func (p *PodWrapper) SidecarReq(pairs ...string) *PodWrapper {
	p.InitReq(pairs...)
	always := corev1.ContainerRestartPolicyAlways
	p.Spec.InitContainers[len(p.Spec.InitContainers)-1].RestartPolicy = &always
	return p
}

// Overhead sets spec.overhead from pairs.
func (p *PodWrapper) Overhead(pairs ...string) *PodWrapper {
	p.Spec.Overhead = resources(pairs)
	return p
}

// HostPort adds a container taking a TCP host port on every address.
func (p *PodWrapper) HostPort(port int32) *PodWrapper {
	return p.HostPortOn("", corev1.ProtocolTCP, port)
}

// HostPortOn adds a container taking a host port on one address.
func (p *PodWrapper) HostPortOn(ip string, proto corev1.Protocol, port int32) *PodWrapper {
	p.Container()
	c := &p.Spec.Containers[len(p.Spec.Containers)-1]
	c.Ports = append(c.Ports, corev1.ContainerPort{ContainerPort: port, HostPort: port, HostIP: ip, Protocol: proto})
	return p
}

// Toleration adds a toleration: with a value, key=value (Equal); without,
// any value of key (Exists); an empty effect tolerates every effect.
func (p *PodWrapper) Toleration(key, value string, effect corev1.TaintEffect) *PodWrapper {
	t := corev1.Toleration{Key: key, Value: value, Effect: effect, Operator: corev1.TolerationOpEqual}
	if value == "" {
		t.Operator = corev1.TolerationOpExists
	}
	p.Spec.Tolerations = append(p.Spec.Tolerations, t)
	return p
}

// NodeSelector adds a nodeSelector entry.
func (p *PodWrapper) NodeSelector(k, v string) *PodWrapper {
	if p.Spec.NodeSelector == nil {
		p.Spec.NodeSelector = map[string]string{}
	}
	p.Spec.NodeSelector[k] = v
	return p
}

func (p *PodWrapper) nodeAffinity() *corev1.NodeAffinity {
	if p.Spec.Affinity == nil {
		p.Spec.Affinity = &corev1.Affinity{}
	}
	if p.Spec.Affinity.NodeAffinity == nil {
		p.Spec.Affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	return p.Spec.Affinity.NodeAffinity
}

// RequiredNodeAffinityIn adds a required node affinity term: label key in
// values. Terms are ORed.
func (p *PodWrapper) RequiredNodeAffinityIn(key string, values ...string) *PodWrapper {
	na := p.nodeAffinity()
	if na.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		na.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{}
	}
	sel := na.RequiredDuringSchedulingIgnoredDuringExecution
	sel.NodeSelectorTerms = append(sel.NodeSelectorTerms, corev1.NodeSelectorTerm{
		MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: corev1.NodeSelectorOpIn, Values: values}}})
	return p
}

// PreferredNodeAffinityIn adds a preferred node affinity term of weight:
// label key in values.
func (p *PodWrapper) PreferredNodeAffinityIn(weight int32, key string, values ...string) *PodWrapper {
	na := p.nodeAffinity()
	na.PreferredDuringSchedulingIgnoredDuringExecution = append(na.PreferredDuringSchedulingIgnoredDuringExecution,
		corev1.PreferredSchedulingTerm{Weight: weight, Preference: corev1.NodeSelectorTerm{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: corev1.NodeSelectorOpIn, Values: values}}}})
	return p
}

// Priority sets spec.priority.
func (p *PodWrapper) Priority(v int32) *PodWrapper {
	p.Spec.Priority = &v
	return p
}

// PreemptNever sets preemptionPolicy: Never.
func (p *PodWrapper) PreemptNever() *PodWrapper {
	never := corev1.PreemptNever
	p.Spec.PreemptionPolicy = &never
	return p
}

// SchedulingGate adds a scheduling gate.
func (p *PodWrapper) SchedulingGate(name string) *PodWrapper {
	p.Spec.SchedulingGates = append(p.Spec.SchedulingGates, corev1.PodSchedulingGate{Name: name})
	return p
}
