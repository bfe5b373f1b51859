package podgc

import (
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// terminated reports whether a pod has finished, as upstream counts it:
// any phase but Pending, Running and Unknown.
func terminated(p *corev1.Pod) bool {
	switch p.Status.Phase {
	case corev1.PodPending, corev1.PodRunning, corev1.PodUnknown:
		return false
	}
	return true
}

// evicted reports whether the kubelet evicted the pod.
func evicted(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodFailed && p.Status.Reason == "Evicted"
}

// terminatedOverThreshold picks the terminated pods to delete so that at
// most threshold are left: evicted pods first (they are nobody's record of
// a finished run), then the oldest, names breaking ties.
func terminatedOverThreshold(pods []*corev1.Pod, threshold int) []*corev1.Pod {
	var done []*corev1.Pod
	for _, p := range pods {
		if terminated(p) {
			done = append(done, p)
		}
	}
	n := len(done) - threshold
	if n <= 0 {
		return nil
	}
	slices.SortFunc(done, func(a, b *corev1.Pod) int {
		if ea, eb := evicted(a), evicted(b); ea != eb {
			if ea {
				return -1
			}
			return 1
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			if a.CreationTimestamp.Before(&b.CreationTimestamp) {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return done[:n]
}

// unscheduledTerminating picks pods deleted before they were ever bound:
// no kubelet will finish them.
func unscheduledTerminating(pods []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp != nil && p.Spec.NodeName == "" {
			out = append(out, p)
		}
	}
	return out
}

// terminatingOutOfService picks terminating pods on nodes that are not
// Ready and carry the node.kubernetes.io/out-of-service taint: an
// operator declared the machine gone, so nobody will finish them.
func terminatingOutOfService(pods []*corev1.Pod, nodes map[string]*corev1.Node) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if p.DeletionTimestamp == nil || p.Spec.NodeName == "" {
			continue
		}
		n := nodes[p.Spec.NodeName]
		if n == nil || ready(n) || !slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool {
			return t.Key == corev1.TaintNodeOutOfService
		}) {
			continue
		}
		out = append(out, p)
	}
	return out
}

func ready(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// missingNodes lists the names of nodes pods are bound to that the node
// cache does not have.
func missingNodes(pods []*corev1.Pod, nodes map[string]*corev1.Node) map[string]bool {
	out := map[string]bool{}
	for _, p := range pods {
		if p.Spec.NodeName != "" && nodes[p.Spec.NodeName] == nil {
			out[p.Spec.NodeName] = true
		}
	}
	return out
}

// dueForCheck records since when each missing node has been missing,
// forgets nodes no longer missing, and returns the names missing for at
// least the quarantine, sorted: only those are worth a live read, as a
// node cache may lag a node's creation.
func dueForCheck(missingSince map[string]time.Time, missing map[string]bool, now time.Time, quarantine time.Duration) []string {
	for name := range missingSince {
		if !missing[name] {
			delete(missingSince, name)
		}
	}
	var due []string
	for name := range missing {
		since, ok := missingSince[name]
		if !ok {
			missingSince[name] = now
			since = now
		}
		if now.Sub(since) >= quarantine {
			due = append(due, name)
		}
	}
	slices.Sort(due)
	return due
}

// onNodes picks the pods bound to the given nodes.
func onNodes(pods []*corev1.Pod, names map[string]bool) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if p.Spec.NodeName != "" && names[p.Spec.NodeName] {
			out = append(out, p)
		}
	}
	return out
}
