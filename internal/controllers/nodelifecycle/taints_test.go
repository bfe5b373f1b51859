package nodelifecycle

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// keys renders taints as key:effect for comparison.
func keys(taints []corev1.Taint) []string {
	var out []string
	for _, t := range taints {
		out = append(out, t.Key+":"+string(t.Effect))
	}
	slices.Sort(out)
	return out
}

func cond(t corev1.NodeConditionType, s corev1.ConditionStatus) corev1.NodeCondition {
	return corev1.NodeCondition{Type: t, Status: s}
}

func TestReconcileTaints(t *testing.T) {
	const (
		unreachNE  = "node.kubernetes.io/unreachable:NoExecute"
		notReadyNE = "node.kubernetes.io/not-ready:NoExecute"
		unreachNS  = "node.kubernetes.io/unreachable:NoSchedule"
		notReadyNS = "node.kubernetes.io/not-ready:NoSchedule"
	)
	taint := func(key string, effect corev1.TaintEffect) corev1.Taint {
		return corev1.Taint{Key: key, Effect: effect}
	}
	foreign := taint("dedicated", corev1.TaintEffectNoExecute)
	for _, tc := range []struct {
		name    string
		conds   []corev1.NodeCondition
		taints  []corev1.Taint
		cordon  bool
		mode    eviction
		want    []string
		changed bool
	}{
		{"ready node stays clean", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionTrue)}, nil, false, evictNormal, nil, false},
		{"unknown: unreachable both effects", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionUnknown)}, nil, false, evictNormal,
			[]string{unreachNE, unreachNS}, true},
		{"false: not-ready both effects", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionFalse)}, nil, false, evictNormal,
			[]string{notReadyNE, notReadyNS}, true},
		{"unknown to false swaps", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionFalse)},
			[]corev1.Taint{taint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute), taint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoSchedule)},
			false, evictNormal, []string{notReadyNE, notReadyNS}, true},
		{"ready again removes ours and keeps foreign", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionTrue)},
			[]corev1.Taint{foreign, taint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute), taint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoSchedule)},
			false, evictNormal, []string{"dedicated:NoExecute"}, true},
		{"already right", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionUnknown)},
			[]corev1.Taint{taint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoSchedule), taint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute)},
			false, evictNormal, []string{unreachNE, unreachNS}, false},
		{"pressure conditions", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionTrue),
			cond(corev1.NodeMemoryPressure, corev1.ConditionTrue), cond(corev1.NodeDiskPressure, corev1.ConditionTrue),
			cond(corev1.NodePIDPressure, corev1.ConditionFalse), cond(corev1.NodeNetworkUnavailable, corev1.ConditionTrue)},
			nil, false, evictNormal, []string{"node.kubernetes.io/disk-pressure:NoSchedule", "node.kubernetes.io/memory-pressure:NoSchedule",
				"node.kubernetes.io/network-unavailable:NoSchedule"}, true},
		{"pressure gone", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionTrue), cond(corev1.NodeMemoryPressure, corev1.ConditionFalse)},
			[]corev1.Taint{taint(corev1.TaintNodeMemoryPressure, corev1.TaintEffectNoSchedule)}, false, evictNormal, nil, true},
		{"cordoned", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionTrue)}, nil, true, evictNormal,
			[]string{"node.kubernetes.io/unschedulable:NoSchedule"}, true},
		{"uncordoned", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionTrue)},
			[]corev1.Taint{taint(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule)}, false, evictNormal, nil, true},
		{"never posted: no taints yet", nil, nil, false, evictNormal, nil, false},
		{"zone down: no new NoExecute", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionUnknown)}, nil, false, evictHeld,
			[]string{unreachNS}, true},
		{"zone down: existing NoExecute swapped", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionFalse)},
			[]corev1.Taint{taint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute)}, false, evictHeld,
			[]string{notReadyNE, notReadyNS}, true},
		{"all down: NoExecute removed", []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionUnknown)},
			[]corev1.Taint{taint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute)}, false, evictOff,
			[]string{unreachNS}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := node(tc.conds...)
			n.Spec.Taints, n.Spec.Unschedulable = tc.taints, tc.cordon
			now := metav1.NewTime(t0)
			got, changed := reconcileTaints(n, tc.mode, now)
			if changed != tc.changed {
				t.Errorf("changed = %v, want %v", changed, tc.changed)
			}
			if !slices.Equal(keys(got), tc.want) {
				t.Errorf("taints = %v, want %v", keys(got), tc.want)
			}
			for _, tn := range got {
				if tn.Effect == corev1.TaintEffectNoExecute && tn.Key != "dedicated" && changed &&
					!slices.ContainsFunc(tc.taints, func(o corev1.Taint) bool { return o.MatchTaint(&tn) }) &&
					(tn.TimeAdded == nil || !tn.TimeAdded.Equal(&now)) {
					t.Errorf("new NoExecute taint %s has timeAdded %v, want now", tn.Key, tn.TimeAdded)
				}
			}
		})
	}
}

func TestEvictionMode(t *testing.T) {
	zoned := func(name, zone string, s corev1.ConditionStatus) *corev1.Node {
		n := node(cond(corev1.NodeReady, s))
		n.Name, n.Labels = name, map[string]string{corev1.LabelTopologyZone: zone}
		return n
	}
	a1, a2 := zoned("a1", "a", corev1.ConditionUnknown), zoned("a2", "a", corev1.ConditionTrue)
	b1 := zoned("b1", "b", corev1.ConditionUnknown)
	if m := evictionMode(a1, []*corev1.Node{a1, a2, b1}); m != evictNormal {
		t.Errorf("a1 with a Ready node in its zone: mode %v, want normal", m)
	}
	if m := evictionMode(b1, []*corev1.Node{a1, a2, b1}); m != evictHeld {
		t.Errorf("b1 in a zone without Ready nodes: mode %v, want held", m)
	}
	a2down := zoned("a2", "a", corev1.ConditionFalse)
	if m := evictionMode(a1, []*corev1.Node{a1, a2down, b1}); m != evictOff {
		t.Errorf("no Ready node anywhere: mode %v, want off", m)
	}
}

func TestPodNotReady(t *testing.T) {
	now := metav1.NewTime(t0)
	pod := &corev1.Pod{Status: corev1.PodStatus{Conditions: []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, {Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}
	got, ok := podNotReady(pod, now)
	if !ok || got.Status.Conditions[1].Status != corev1.ConditionFalse || !got.Status.Conditions[1].LastTransitionTime.Equal(&now) {
		t.Fatalf("podNotReady = %+v, %v", got, ok)
	}
	if pod.Status.Conditions[1].Status != corev1.ConditionTrue {
		t.Error("podNotReady changed its argument")
	}
	if _, ok := podNotReady(got, now); ok {
		t.Error("a pod already not Ready is updated again")
	}
}
