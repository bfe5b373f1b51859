package apiserver

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// defaultTolerationSeconds is how long a pod tolerates a not-ready or
// unreachable node unless configured otherwise (upstream's 300 s).
const defaultTolerationSeconds = 300

// admitTolerations is upstream's DefaultTolerationSeconds admission: a new
// pod that does not already say how it treats the NoExecute taints
// node.kubernetes.io/not-ready and node.kubernetes.io/unreachable gets
// tolerations for them with a limit, so that the taint eviction
// controller moves it off a failed node after that long and not at once.
func (s *Server) admitTolerations(obj runtime.Object) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	addDefaultTolerations(pod, orDefault(s.opts.DefaultNotReadyTolerationSeconds),
		orDefault(s.opts.DefaultUnreachableTolerationSeconds))
}

func orDefault(seconds int64) int64 {
	if seconds == 0 {
		return defaultTolerationSeconds
	}
	return seconds
}

// addDefaultTolerations adds the two default tolerations to pod where it
// has none that covers the taint's key (or every key) with the NoExecute
// effect (or every effect).
func addDefaultTolerations(pod *corev1.Pod, notReadySeconds, unreachableSeconds int64) {
	for _, d := range []struct {
		key     string
		seconds int64
	}{{corev1.TaintNodeNotReady, notReadySeconds}, {corev1.TaintNodeUnreachable, unreachableSeconds}} {
		if coversNoExecute(pod.Spec.Tolerations, d.key) {
			continue
		}
		seconds := d.seconds
		pod.Spec.Tolerations = append(pod.Spec.Tolerations, corev1.Toleration{Key: d.key,
			Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &seconds})
	}
}

// coversNoExecute reports whether one of tolerations is about key's
// NoExecute taint, whatever it decides about it.
func coversNoExecute(tolerations []corev1.Toleration, key string) bool {
	for _, t := range tolerations {
		if (t.Key == key || t.Key == "") && (t.Effect == corev1.TaintEffectNoExecute || t.Effect == "") {
			return true
		}
	}
	return false
}
