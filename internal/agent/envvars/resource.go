package envvars

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// ResourceValue returns the value of a downward API resourceFieldRef
// (limits.cpu, limits.memory, limits.ephemeral-storage, requests.* and
// hugepages-*), divided by ref.Divisor (default 1) and rounded up, as the
// kubelet computes it.
//
// The container is ref.ContainerName when set (searched among the pod's
// containers and init containers), else c. A limit the container does not
// set (or sets to zero) defaults to the pod-level limit for cpu and memory,
// else to nodeAllocatable — so limits.cpu of an unlimited container on a
// 4-core node is "4".
func ResourceValue(pod *corev1.Pod, c *corev1.Container, ref *corev1.ResourceFieldSelector, nodeAllocatable corev1.ResourceList) (string, error) {
	if ref.ContainerName != "" {
		found, err := findContainer(pod, ref.ContainerName)
		if err != nil {
			return "", err
		}
		c = found
	}
	if c == nil {
		return "", fmt.Errorf("resourceFieldRef %s: no container given", ref.Resource)
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}

	kind, name, ok := strings.Cut(ref.Resource, ".")
	if !ok || (kind != "limits" && kind != "requests") {
		return "", fmt.Errorf("unsupported container resource : %v", ref.Resource)
	}
	rn := corev1.ResourceName(name)
	switch {
	case rn == corev1.ResourceCPU, rn == corev1.ResourceMemory, rn == corev1.ResourceEphemeralStorage:
	case strings.HasPrefix(name, corev1.ResourceHugePagesPrefix):
	default:
		return "", fmt.Errorf("unsupported container resource : %v", ref.Resource)
	}

	var q resource.Quantity
	if kind == "requests" {
		q = c.Resources.Requests[rn]
	} else {
		q = limitOf(pod, c, rn, nodeAllocatable)
	}
	if rn == corev1.ResourceCPU {
		return ceilDiv(q.MilliValue(), divisor.MilliValue()), nil
	}
	return ceilDiv(q.Value(), divisor.Value()), nil
}

// limitOf is c's limit for rn with the kubelet's defaults for the downward
// API: pod-level limits (cpu, memory), then node allocatable.
func limitOf(pod *corev1.Pod, c *corev1.Container, rn corev1.ResourceName, nodeAllocatable corev1.ResourceList) resource.Quantity {
	if q, ok := c.Resources.Limits[rn]; ok && !q.IsZero() {
		return q
	}
	if rn != corev1.ResourceCPU && rn != corev1.ResourceMemory && rn != corev1.ResourceEphemeralStorage {
		return resource.Quantity{} // hugepages are never defaulted
	}
	alloc, ok := nodeAllocatable[rn]
	if !ok {
		return resource.Quantity{}
	}
	if pod.Spec.Resources != nil && rn != corev1.ResourceEphemeralStorage {
		if q, ok := pod.Spec.Resources.Limits[rn]; ok && !q.IsZero() {
			return q
		}
	}
	return alloc
}

func ceilDiv(v, divisor int64) string {
	if divisor == 0 {
		divisor = 1
	}
	return strconv.FormatInt(int64(math.Ceil(float64(v)/float64(divisor))), 10)
}

func findContainer(pod *corev1.Pod, name string) (*corev1.Container, error) {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i], nil
		}
	}
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			return &pod.Spec.InitContainers[i], nil
		}
	}
	return nil, fmt.Errorf("container %s not found", name)
}
