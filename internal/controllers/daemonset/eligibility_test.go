package daemonset

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestShouldRun(t *testing.T) {
	in := func(key string, values ...string) corev1.NodeSelectorTerm {
		return corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
			{Key: key, Operator: corev1.NodeSelectorOpIn, Values: values}}}
	}
	tests := []struct {
		name      string
		node      *corev1.Node
		ds        *appsv1.DaemonSet
		run, keep bool
	}{
		{"plain node", makeNode("n1").obj(), makeDS("d").obj(), true, true},
		{"nodeSelector matches", makeNode("n1").label("disk", "ssd").obj(), makeDS("d").nodeSelector("disk", "ssd").obj(), true, true},
		{"nodeSelector does not match", makeNode("n1").label("disk", "hdd").obj(), makeDS("d").nodeSelector("disk", "ssd").obj(), false, false},
		{"nodeSelector label missing", makeNode("n1").obj(), makeDS("d").nodeSelector("disk", "ssd").obj(), false, false},
		{"affinity matches one of two terms", makeNode("n1").label("zone", "b").obj(),
			makeDS("d").affinity(in("zone", "a"), in("zone", "b")).obj(), true, true},
		{"affinity does not match", makeNode("n1").label("zone", "c").obj(),
			makeDS("d").affinity(in("zone", "a", "b")).obj(), false, false},
		{"affinity by metadata.name", makeNode("n2").obj(), makeDS("d").affinity(corev1.NodeSelectorTerm{
			MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"n1"}}}}).obj(),
			false, false},
		{"selector and affinity both needed", makeNode("n1").label("zone", "a").obj(),
			makeDS("d").nodeSelector("disk", "ssd").affinity(in("zone", "a")).obj(), false, false},
		{"template nodeName elsewhere", makeNode("n1").obj(), makeDS("d").nodeName("n2").obj(), false, false},
		{"template nodeName here", makeNode("n1").obj(), makeDS("d").nodeName("n1").obj(), true, true},
		{"untolerated NoSchedule: no new pod, old may stay", makeNode("n1").taint("dedicated", corev1.TaintEffectNoSchedule).obj(),
			makeDS("d").obj(), false, true},
		{"tolerated NoSchedule", makeNode("n1").taint("dedicated", corev1.TaintEffectNoSchedule).obj(),
			makeDS("d").toleration(corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpExists}).obj(), true, true},
		{"toleration for another effect", makeNode("n1").taint("dedicated", corev1.TaintEffectNoSchedule).obj(),
			makeDS("d").toleration(corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}).obj(),
			false, true},
		{"untolerated NoExecute evicts", makeNode("n1").taint("dedicated", corev1.TaintEffectNoExecute).obj(), makeDS("d").obj(), false, false},
		{"PreferNoSchedule is ignored", makeNode("n1").taint("dedicated", corev1.TaintEffectPreferNoSchedule).obj(), makeDS("d").obj(), true, true},
		{"cordoned node", makeNode("n1").taint(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule).obj(), makeDS("d").obj(), true, true},
		{"unreachable NoExecute", makeNode("n1").taint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute).obj(), makeDS("d").obj(), true, true},
		{"not-ready NoExecute", makeNode("n1").taint(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute).obj(), makeDS("d").obj(), true, true},
		{"not-ready NoSchedule is not tolerated", makeNode("n1").taint(corev1.TaintNodeNotReady, corev1.TaintEffectNoSchedule).obj(),
			makeDS("d").obj(), false, true},
		{"memory pressure", makeNode("n1").taint(corev1.TaintNodeMemoryPressure, corev1.TaintEffectNoSchedule).obj(), makeDS("d").obj(), true, true},
		{"network unavailable, pod network", makeNode("n1").taint(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule).obj(),
			makeDS("d").obj(), false, true},
		{"network unavailable, host network", makeNode("n1").taint(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule).obj(),
			makeDS("d").hostNetwork().obj(), true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run, keep := shouldRun(tt.node, tt.ds)
			if run != tt.run || keep != tt.keep {
				t.Errorf("shouldRun = (%v, %v), want (%v, %v)", run, keep, tt.run, tt.keep)
			}
		})
	}
}

func TestShouldRunLeavesTemplateAlone(t *testing.T) {
	ds := makeDS("d").toleration(corev1.Toleration{Key: "x", Operator: corev1.TolerationOpExists}).obj()
	shouldRun(makeNode("n1").obj(), ds)
	if n := len(ds.Spec.Template.Spec.Tolerations); n != 1 {
		t.Fatalf("template has %d tolerations after shouldRun, want 1", n)
	}
}

func TestAddDaemonTolerations(t *testing.T) {
	spec := corev1.PodSpec{Tolerations: []corev1.Toleration{
		{Key: "mine", Operator: corev1.TolerationOpExists},
		// Same key/operator/effect as a default, with a limit: the default replaces it.
		{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](30)},
	}}
	addDaemonTolerations(&spec)
	if len(spec.Tolerations) != 7 {
		t.Fatalf("got %d tolerations, want 7: %+v", len(spec.Tolerations), spec.Tolerations)
	}
	if spec.Tolerations[1].TolerationSeconds != nil {
		t.Errorf("unreachable toleration keeps tolerationSeconds %d; the default has none", *spec.Tolerations[1].TolerationSeconds)
	}
	want := map[string]corev1.TaintEffect{
		corev1.TaintNodeNotReady: corev1.TaintEffectNoExecute, corev1.TaintNodeUnreachable: corev1.TaintEffectNoExecute,
		corev1.TaintNodeDiskPressure: corev1.TaintEffectNoSchedule, corev1.TaintNodeMemoryPressure: corev1.TaintEffectNoSchedule,
		corev1.TaintNodePIDPressure: corev1.TaintEffectNoSchedule, corev1.TaintNodeUnschedulable: corev1.TaintEffectNoSchedule,
	}
	for _, tol := range spec.Tolerations[1:] {
		if want[tol.Key] != tol.Effect || tol.Operator != corev1.TolerationOpExists {
			t.Errorf("unexpected toleration %+v", tol)
		}
		delete(want, tol.Key)
	}
	if len(want) != 0 {
		t.Errorf("missing tolerations for %v", want)
	}
	addDaemonTolerations(&spec)
	if len(spec.Tolerations) != 7 {
		t.Errorf("adding twice gives %d tolerations", len(spec.Tolerations))
	}

	host := corev1.PodSpec{HostNetwork: true}
	addDaemonTolerations(&host)
	if len(host.Tolerations) != 7 || host.Tolerations[6].Key != corev1.TaintNodeNetworkUnavailable {
		t.Errorf("host network pod tolerations: %+v", host.Tolerations)
	}
	if len(daemonTolerations) != 6 {
		t.Errorf("the shared defaults were modified: %d", len(daemonTolerations))
	}
}

func TestPinToNode(t *testing.T) {
	a := pinToNode(nil, "n1")
	if got, err := targetNode(&corev1.Pod{Spec: corev1.PodSpec{Affinity: a}}); err != nil || got != "n1" {
		t.Fatalf("targetNode of pinned pod = %q, %v", got, err)
	}
	pref := []corev1.PreferredSchedulingTerm{{Weight: 1, Preference: corev1.NodeSelectorTerm{}}}
	existing := &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{
			{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}}},
			{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"b"}}}},
		}},
		PreferredDuringSchedulingIgnoredDuringExecution: pref}}
	a = pinToNode(existing, "n2")
	terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 1 || len(terms[0].MatchExpressions) != 0 || len(terms[0].MatchFields) != 1 ||
		terms[0].MatchFields[0].Key != metav1.ObjectNameField || terms[0].MatchFields[0].Values[0] != "n2" {
		t.Errorf("required terms = %+v, want one metadata.name=n2 term", terms)
	}
	if len(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 {
		t.Error("preferred terms were dropped")
	}
}

func TestTargetNode(t *testing.T) {
	if got, _ := targetNode(makePod("p", "n3", "h", 0).obj()); got != "n3" {
		t.Errorf("scheduled pod: %q", got)
	}
	if got, _ := targetNode(makePod("p", "n4", "h", 0).unscheduled().obj()); got != "n4" {
		t.Errorf("unscheduled pinned pod: %q", got)
	}
	if _, err := targetNode(&corev1.Pod{}); err == nil {
		t.Error("pod with no node and no affinity: want an error")
	}
	two := &corev1.Pod{Spec: corev1.PodSpec{Affinity: pinToNode(nil, "a")}}
	two.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields[0].Values = []string{"a", "b"}
	if _, err := targetNode(two); err == nil {
		t.Error("affinity to two nodes: want an error")
	}
}
