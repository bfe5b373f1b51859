package daemonset

import (
	"errors"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// daemonTolerations are the tolerations every daemon pod gets, so that it
// keeps running on a node that is unhealthy, under pressure or cordoned.
// The not-ready and unreachable ones have no tolerationSeconds: a daemon
// pod is never evicted for them.
var daemonTolerations = []corev1.Toleration{
	{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
	{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
	{Key: corev1.TaintNodeDiskPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeMemoryPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodePIDPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
}

// hostNetworkToleration is added for pods on the host network, which do not
// need the pod network to be up.
var hostNetworkToleration = corev1.Toleration{Key: corev1.TaintNodeNetworkUnavailable,
	Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}

// addDaemonTolerations adds the daemon tolerations to spec. A toleration the
// template already has for the same key, operator, value and effect is
// replaced by the default one.
func addDaemonTolerations(spec *corev1.PodSpec) {
	defaults := daemonTolerations
	if spec.HostNetwork {
		defaults = append(append([]corev1.Toleration(nil), defaults...), hostNetworkToleration)
	}
	for _, d := range defaults {
		found := false
		for i := range spec.Tolerations {
			if spec.Tolerations[i].MatchToleration(&d) {
				found = true
				if !apiequality.Semantic.DeepEqual(spec.Tolerations[i], d) {
					spec.Tolerations[i] = d
				}
				break
			}
		}
		if !found {
			spec.Tolerations = append(spec.Tolerations, d)
		}
	}
}

// schedulingEffects selects the taints that keep a pod off a node.
func schedulingEffects(t *corev1.Taint) bool {
	return t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute
}

// executeEffect selects the taints that evict a running pod.
func executeEffect(t *corev1.Taint) bool {
	return t.Effect == corev1.TaintEffectNoExecute
}

// shouldRun reports whether a daemon pod of ds should be started on node
// (run), and whether one already there may stay (keep). A node must match
// the template's nodeName (when set), nodeSelector and required node
// affinity, and carry no NoSchedule or NoExecute taint the pod (with the
// daemon tolerations) does not tolerate. A pod may stay on a node whose
// only untolerated taints are NoSchedule ones.
func shouldRun(node *corev1.Node, ds *appsv1.DaemonSet) (run, keep bool) {
	tmpl := &ds.Spec.Template.Spec
	if tmpl.NodeName != "" && tmpl.NodeName != node.Name {
		return false, false
	}
	pod := &corev1.Pod{Spec: corev1.PodSpec{NodeSelector: tmpl.NodeSelector, Affinity: tmpl.Affinity,
		HostNetwork: tmpl.HostNetwork, Tolerations: append([]corev1.Toleration(nil), tmpl.Tolerations...)}}
	addDaemonTolerations(&pod.Spec)
	if fits, err := nodeaffinity.GetRequiredNodeAffinity(pod).Match(node); err != nil || !fits {
		return false, false
	}
	if _, untolerated := corev1helpers.FindMatchingUntoleratedTaint(node.Spec.Taints, pod.Spec.Tolerations, schedulingEffects); !untolerated {
		return true, true
	}
	_, evicting := corev1helpers.FindMatchingUntoleratedTaint(node.Spec.Taints, pod.Spec.Tolerations, executeEffect)
	return false, !evicting
}

// pinToNode returns affinity with its required node terms replaced by one
// that matches only the node named nodeName (by metadata.name), which the
// scheduler then binds the pod to. The replaced terms were already checked
// by shouldRun; preferred terms and pod (anti-)affinity are kept.
func pinToNode(affinity *corev1.Affinity, nodeName string) *corev1.Affinity {
	term := corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{{
		Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{nodeName}}}}
	if affinity == nil {
		affinity = &corev1.Affinity{}
	}
	if affinity.NodeAffinity == nil {
		affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{term}}
	return affinity
}

var errNoTargetNode = errors.New("daemonset: pod has neither a nodeName nor a node affinity to one node")

// targetNode is the node a daemon pod is for: its spec.nodeName once
// scheduled, before that the node its metadata.name affinity names.
func targetNode(pod *corev1.Pod) (string, error) {
	if pod.Spec.NodeName != "" {
		return pod.Spec.NodeName, nil
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return "", errNoTargetNode
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, req := range term.MatchFields {
			if req.Key == metav1.ObjectNameField && req.Operator == corev1.NodeSelectorOpIn {
				if len(req.Values) != 1 {
					return "", errNoTargetNode
				}
				return req.Values[0], nil
			}
		}
	}
	return "", errNoTargetNode
}
