package envvars

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// FieldValue returns the value of a downward API fieldRef for pod, as the
// kubelet computes it for env vars and downwardAPI volume files:
//
//   - metadata.name, metadata.namespace, metadata.uid;
//   - metadata.labels['k'] and metadata.annotations['k'] (empty when unset);
//   - metadata.labels and metadata.annotations: every pair as a `k="v"` line,
//     sorted by key (the downwardAPI volume file format);
//   - spec.nodeName, spec.serviceAccountName;
//   - status.podIP, status.podIPs, status.hostIP, status.hostIPs (lists are
//     comma-separated; pod.Status must be filled in by the caller).
//
// apiVersion is the fieldRef's apiVersion; "" means v1.
func FieldValue(pod *corev1.Pod, apiVersion, fieldPath string) (string, error) {
	if apiVersion != "" && apiVersion != "v1" {
		return "", fmt.Errorf("unsupported pod version: %s", apiVersion)
	}
	if path, key, ok := splitSubscript(fieldPath); ok {
		switch path {
		case "metadata.labels":
			return pod.Labels[key], nil
		case "metadata.annotations":
			return pod.Annotations[key], nil
		}
		return "", fmt.Errorf("field label does not support subscript: %s", fieldPath)
	}
	switch fieldPath {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return FormatMap(pod.Labels), nil
	case "metadata.annotations":
		return FormatMap(pod.Annotations), nil
	case "spec.nodeName", "spec.host":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP":
		return podIPs(pod)[0], nil
	case "status.podIPs":
		return strings.Join(podIPs(pod), ","), nil
	case "status.hostIP":
		return hostIPs(pod)[0], nil
	case "status.hostIPs":
		return strings.Join(hostIPs(pod), ","), nil
	}
	return "", fmt.Errorf("unsupported fieldPath: %s", fieldPath)
}

// FormatMap renders m as the downward API does in volume files: one
// `key="value"` line per entry (the value quoted Go-style), sorted by key,
// with no newline after the last.
func FormatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = k + "=" + strconv.Quote(m[k])
	}
	return strings.Join(lines, "\n")
}

// splitSubscript splits `metadata.labels['key']` into its path and key.
func splitSubscript(fieldPath string) (path, key string, ok bool) {
	if !strings.HasSuffix(fieldPath, "']") {
		return "", "", false
	}
	path, rest, found := strings.Cut(fieldPath, "['")
	if !found {
		return "", "", false
	}
	return path, strings.TrimSuffix(rest, "']"), true
}

// podIPs is the pod's IPs, primary first; never empty.
func podIPs(pod *corev1.Pod) []string {
	var ips []string
	for _, ip := range pod.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	if len(ips) == 0 {
		ips = []string{pod.Status.PodIP}
	}
	return ips
}

// hostIPs is the node's IPs as the pod status reports them; never empty.
func hostIPs(pod *corev1.Pod) []string {
	var ips []string
	for _, ip := range pod.Status.HostIPs {
		ips = append(ips, ip.IP)
	}
	if len(ips) == 0 {
		ips = []string{pod.Status.HostIP}
	}
	return ips
}
