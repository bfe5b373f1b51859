package nodelifecycle

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// conditionTaints maps a node condition's status to the NoSchedule taint
// it brings (upstream's TaintNodesByCondition).
var conditionTaints = map[corev1.NodeConditionType]map[corev1.ConditionStatus]string{
	corev1.NodeReady:              {corev1.ConditionFalse: corev1.TaintNodeNotReady, corev1.ConditionUnknown: corev1.TaintNodeUnreachable},
	corev1.NodeMemoryPressure:     {corev1.ConditionTrue: corev1.TaintNodeMemoryPressure},
	corev1.NodeDiskPressure:       {corev1.ConditionTrue: corev1.TaintNodeDiskPressure},
	corev1.NodePIDPressure:        {corev1.ConditionTrue: corev1.TaintNodePIDPressure},
	corev1.NodeNetworkUnavailable: {corev1.ConditionTrue: corev1.TaintNodeNetworkUnavailable},
}

// noScheduleKeys are the NoSchedule taints this controller owns: it adds
// and removes them; other NoSchedule taints are left alone.
var noScheduleKeys = []string{
	corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable, corev1.TaintNodeMemoryPressure,
	corev1.TaintNodeDiskPressure, corev1.TaintNodePIDPressure, corev1.TaintNodeNetworkUnavailable,
	corev1.TaintNodeUnschedulable,
}

// noExecuteKeys are the NoExecute taints this controller owns
// (TaintBasedEvictions).
var noExecuteKeys = []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable}

// eviction says what may happen to a node's NoExecute taints, from the
// health of its zone (upstream's disruption modes).
type eviction int

const (
	// evictNormal: taint nodes by their Ready condition.
	evictNormal eviction = iota
	// evictHeld: the node's zone has no Ready node left; add no new
	// NoExecute taints there, but keep, swap and remove existing ones.
	evictHeld
	// evictOff: no node in the cluster is Ready, most likely a problem
	// of the control plane's network rather than of the nodes; remove
	// every NoExecute taint so nothing is evicted.
	evictOff
)

// wantNoSchedule lists the NoSchedule taint keys node should carry.
func wantNoSchedule(node *corev1.Node) []string {
	var keys []string
	for _, c := range node.Status.Conditions {
		if key, ok := conditionTaints[c.Type][c.Status]; ok {
			keys = append(keys, key)
		}
	}
	if node.Spec.Unschedulable {
		keys = append(keys, corev1.TaintNodeUnschedulable)
	}
	return keys
}

// wantNoExecute lists the NoExecute taint keys node should carry: Ready
// False brings not-ready, Ready Unknown unreachable; a node that has never
// posted Ready is left alone until it is marked Unknown.
func wantNoExecute(node *corev1.Node, mode eviction) []string {
	ready := condition(node, corev1.NodeReady)
	if ready == nil || mode == evictOff {
		return nil
	}
	var key string
	switch ready.Status {
	case corev1.ConditionFalse:
		key = corev1.TaintNodeNotReady
	case corev1.ConditionUnknown:
		key = corev1.TaintNodeUnreachable
	default:
		return nil
	}
	if mode == evictHeld && !slices.ContainsFunc(node.Spec.Taints, func(t corev1.Taint) bool {
		return t.Effect == corev1.TaintEffectNoExecute && slices.Contains(noExecuteKeys, t.Key)
	}) {
		return nil
	}
	return []string{key}
}

// reconcileTaints returns node's taints with the ones this controller owns
// made to match its conditions, and whether they differ from the current
// ones. NoExecute taints it adds carry timeAdded.
func reconcileTaints(node *corev1.Node, mode eviction, now metav1.Time) ([]corev1.Taint, bool) {
	want := map[corev1.TaintEffect][]string{
		corev1.TaintEffectNoSchedule: wantNoSchedule(node),
		corev1.TaintEffectNoExecute:  wantNoExecute(node, mode),
	}
	owned := map[corev1.TaintEffect][]string{
		corev1.TaintEffectNoSchedule: noScheduleKeys,
		corev1.TaintEffectNoExecute:  noExecuteKeys,
	}
	var out []corev1.Taint
	changed := false
	have := map[corev1.TaintEffect][]string{}
	for _, t := range node.Spec.Taints {
		if slices.Contains(owned[t.Effect], t.Key) && !slices.Contains(want[t.Effect], t.Key) {
			changed = true
			continue
		}
		have[t.Effect] = append(have[t.Effect], t.Key)
		out = append(out, t)
	}
	for _, effect := range []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute} {
		for _, key := range want[effect] {
			if slices.Contains(have[effect], key) {
				continue
			}
			t := corev1.Taint{Key: key, Effect: effect}
			if effect == corev1.TaintEffectNoExecute {
				t.TimeAdded = &now
			}
			out = append(out, t)
			changed = true
		}
	}
	return out, changed
}

// zoneKey is the failure zone a node belongs to, from its topology labels.
func zoneKey(node *corev1.Node) string {
	return node.Labels[corev1.LabelTopologyRegion] + ":\x00:" + node.Labels[corev1.LabelTopologyZone]
}

// evictionMode is the NoExecute mode for node among all nodes: held when
// its zone has no Ready node, off when no zone has one.
func evictionMode(node *corev1.Node, all []*corev1.Node) eviction {
	readyZones := map[string]bool{}
	for _, n := range all {
		if readyStatus(n) == corev1.ConditionTrue {
			readyZones[zoneKey(n)] = true
		}
	}
	switch {
	case len(readyZones) == 0:
		return evictOff
	case !readyZones[zoneKey(node)]:
		return evictHeld
	}
	return evictNormal
}
