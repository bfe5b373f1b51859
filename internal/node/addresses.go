package node

import (
	corev1 "k8s.io/api/core/v1"
)

// internalIP is the first InternalIP of addrs, else the first address.
func internalIP(addrs []corev1.NodeAddress) string {
	for _, a := range addrs {
		if a.Type == corev1.NodeInternalIP {
			return a.Address
		}
	}
	if len(addrs) > 0 {
		return addrs[0].Address
	}
	return "127.0.0.1"
}
