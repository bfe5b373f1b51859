package taintevict

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// noExecute returns the node's NoExecute taints.
func noExecute(node *corev1.Node) []corev1.Taint {
	if node == nil {
		return nil
	}
	var out []corev1.Taint
	for _, t := range node.Spec.Taints {
		if t.Effect == corev1.TaintEffectNoExecute {
			out = append(out, t)
		}
	}
	return out
}

// decide says whether a pod with these tolerations must leave a node
// with these NoExecute taints, and after how long: at once when a taint is
// not tolerated; otherwise after the shortest tolerationSeconds among the
// tolerations that admit the taints (the first matching one per taint,
// as upstream), counted from when the taints were first seen; never when
// none of those tolerations has a limit.
func decide(taints []corev1.Taint, tolerations []corev1.Toleration) (evict bool, after time.Duration) {
	if len(taints) == 0 {
		return false, 0
	}
	var used []corev1.Toleration
	for i := range taints {
		tolerated := false
		for j := range tolerations {
			if tolerations[j].ToleratesTaint(&taints[i]) {
				used = append(used, tolerations[j])
				tolerated = true
				break
			}
		}
		if !tolerated {
			return true, 0
		}
	}
	limited := false
	var least int64
	for _, t := range used {
		if t.TolerationSeconds == nil {
			continue
		}
		s := max(*t.TolerationSeconds, 0)
		if !limited || s < least {
			least, limited = s, true
		}
	}
	if !limited {
		return false, 0
	}
	return true, time.Duration(least) * time.Second
}
