package agent

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/kubectl/pkg/util/qos"
)

// OOM score adjustments by QoS class, as the kubelet sets them: the kernel
// kills best-effort containers first and guaranteed ones last.
const (
	oomGuaranteed = -997
	oomBestEffort = 1000
)

// oomScoreAdj is a container's oom_score_adj: fixed for guaranteed and
// best-effort pods, and for burstable pods lower the more memory the
// container requests relative to the node's.
func oomScoreAdj(pod *corev1.Pod, c *corev1.Container, nodeMemory int64) int64 {
	if pod.Spec.PriorityClassName == "system-node-critical" || pod.Spec.PriorityClassName == "system-cluster-critical" && isStatic(pod) {
		return oomGuaranteed
	}
	switch qos.GetPodQOS(pod) {
	case corev1.PodQOSGuaranteed:
		return oomGuaranteed
	case corev1.PodQOSBestEffort:
		return oomBestEffort
	}
	if nodeMemory <= 0 {
		return oomBestEffort - 1
	}
	req := c.Resources.Requests.Memory().Value()
	adj := int64(1000) - 1000*req/nodeMemory
	if adj < 1000+oomGuaranteed {
		return 1000 + oomGuaranteed
	}
	if adj == oomBestEffort {
		return adj - 1
	}
	return adj
}
