package framework

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	resourcehelper "k8s.io/component-helpers/resource"
)

// The requests a pod that asks for no CPU or memory is counted with when
// nodes are scored (not when they are filtered), as upstream does, so that
// pods without requests still spread over the nodes.
const (
	DefaultMilliCPURequest int64 = 100               // 0.1 core
	DefaultMemoryRequest   int64 = 200 * 1024 * 1024 // 200 MiB
)

// PodInfo is a pod with what the plugins need from it computed once: its
// requests, the non-zero requests scoring uses, and its host ports.
type PodInfo struct {
	Pod *corev1.Pod
	// Requests is what the pod needs from a node: the largest of its
	// init-container phases or its containers plus sidecars, plus the
	// pod's overhead; pod-level requests win when set.
	Requests Resource
	// NonZeroMilliCPU and NonZeroMemory are Requests' CPU and memory with
	// containers that leave them out counted at the defaults above.
	NonZeroMilliCPU, NonZeroMemory int64
	// HostPorts are the host ports of its containers and sidecars.
	HostPorts []HostPort
}

// NewPodInfo computes a pod's PodInfo. For a pod already on a node, the
// resources its containers were given (status) count as upstream counts
// them during an in-place resize.
func NewPodInfo(pod *corev1.Pod) *PodInfo {
	opts := resourcehelper.PodResourcesOptions{UseStatusResources: pod.Spec.NodeName != ""}
	reqs := resourcehelper.PodRequests(pod, opts)
	pi := &PodInfo{Pod: pod, Requests: NewResource(reqs)}
	pi.NonZeroMilliCPU, pi.NonZeroMemory = pi.Requests.MilliCPU, pi.Requests.Memory
	_, hasCPU := reqs[corev1.ResourceCPU]
	_, hasMemory := reqs[corev1.ResourceMemory]
	if (!hasCPU || !hasMemory) && !resourcehelper.IsPodLevelRequestsSet(pod) {
		missing := corev1.ResourceList{}
		if !hasCPU {
			missing[corev1.ResourceCPU] = *resource.NewMilliQuantity(DefaultMilliCPURequest, resource.DecimalSI)
		}
		if !hasMemory {
			missing[corev1.ResourceMemory] = *resource.NewQuantity(DefaultMemoryRequest, resource.BinarySI)
		}
		opts.NonMissingContainerRequests = missing
		nz := resourcehelper.PodRequests(pod, opts)
		cpu, mem := nz[corev1.ResourceCPU], nz[corev1.ResourceMemory]
		pi.NonZeroMilliCPU, pi.NonZeroMemory = cpu.MilliValue(), mem.Value()
	}
	pi.HostPorts = podHostPorts(pod)
	return pi
}

// HostPort is one port a pod takes on its node's network.
type HostPort struct {
	IP       string // "0.0.0.0" for every address
	Protocol corev1.Protocol
	Port     int32
}

// anyIP is the wildcard address a host port with no IP binds.
const anyIP = "0.0.0.0"

// Conflicts reports whether two host ports cannot both be taken: the same
// protocol and port on the same address, or either on every address.
func (p HostPort) Conflicts(o HostPort) bool {
	return p.Port == o.Port && p.Protocol == o.Protocol && (p.IP == o.IP || p.IP == anyIP || o.IP == anyIP)
}

func podHostPorts(pod *corev1.Pod) []HostPort {
	var ports []HostPort
	add := func(c *corev1.Container) {
		for _, p := range c.Ports {
			if p.HostPort <= 0 {
				continue
			}
			hp := HostPort{IP: p.HostIP, Protocol: p.Protocol, Port: p.HostPort}
			if hp.IP == "" {
				hp.IP = anyIP
			}
			if hp.Protocol == "" {
				hp.Protocol = corev1.ProtocolTCP
			}
			ports = append(ports, hp)
		}
	}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			add(c)
		}
	}
	for i := range pod.Spec.Containers {
		add(&pod.Spec.Containers[i])
	}
	return ports
}
