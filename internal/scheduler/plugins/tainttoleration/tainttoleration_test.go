package tainttoleration

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"skiff.dev/internal/scheduler/framework"
	st "skiff.dev/internal/scheduler/schedtest"
)

func TestFilter(t *testing.T) {
	node := func() *st.NodeWrapper { return st.MakeNode().Name("n1").Capacity("cpu", "4", "pods", "10") }
	pod := func() *st.PodWrapper { return st.MakePod().Name("p") }
	for _, c := range []struct {
		name   string
		pod    *corev1.Pod
		node   *corev1.Node
		onNode []*corev1.Pod
		code   framework.Code
		reason string
	}{
		{"untainted", pod().Obj(), node().Obj(), nil, framework.Success, ""},
		{"NoSchedule", pod().Obj(),
			node().Taint("dedicated", "infra", corev1.TaintEffectNoSchedule).Obj(), nil, framework.UnschedulableAndUnresolvable, ErrReasonNotMatch},
		{"NoExecute", pod().Obj(),
			node().Taint("node.kubernetes.io/not-ready", "", corev1.TaintEffectNoExecute).Obj(), nil, framework.UnschedulableAndUnresolvable, ErrReasonNotMatch},
		{"PreferNoSchedule does not filter", pod().Obj(),
			node().Taint("soft", "", corev1.TaintEffectPreferNoSchedule).Obj(), nil, framework.Success, ""},
		{"tolerated by value", pod().Toleration("dedicated", "infra", corev1.TaintEffectNoSchedule).Obj(),
			node().Taint("dedicated", "infra", corev1.TaintEffectNoSchedule).Obj(), nil, framework.Success, ""},
		{"another value", pod().Toleration("dedicated", "db", corev1.TaintEffectNoSchedule).Obj(),
			node().Taint("dedicated", "infra", corev1.TaintEffectNoSchedule).Obj(), nil, framework.UnschedulableAndUnresolvable, ErrReasonNotMatch},
		{"Exists with any effect", pod().Toleration("dedicated", "", "").Obj(),
			node().Taint("dedicated", "infra", corev1.TaintEffectNoExecute).Obj(), nil, framework.Success, ""},
	} {
		s := st.Filter(t, New(), c.pod, c.node, c.onNode...)
		if s.Code() != c.code || s.Message() != c.reason {
			t.Errorf("%s: %v %q, want %v %q", c.name, s.Code(), s.Message(), c.code, c.reason)
		}
	}
}

func TestScore(t *testing.T) {
	n := func(name string) *st.NodeWrapper { return st.MakeNode().Name(name) }
	for _, c := range []struct {
		name  string
		pod   *corev1.Pod
		nodes []*corev1.Node
		want  []int64
	}{
		{"fewer untolerated PreferNoSchedule taints score higher", st.MakePod().Obj(),
			[]*corev1.Node{
				n("a").Obj(),
				n("b").Taint("x", "", corev1.TaintEffectPreferNoSchedule).Obj(),
				n("c").Taint("x", "", corev1.TaintEffectPreferNoSchedule).Taint("y", "", corev1.TaintEffectPreferNoSchedule).Obj(),
			}, []int64{100, 50, 0}},
		{"tolerated taints do not count",
			st.MakePod().Toleration("x", "", corev1.TaintEffectPreferNoSchedule).Obj(),
			[]*corev1.Node{n("a").Taint("x", "", corev1.TaintEffectPreferNoSchedule).Obj(), n("b").Taint("y", "", corev1.TaintEffectPreferNoSchedule).Obj()},
			[]int64{100, 0}},
		{"no soft taints anywhere", st.MakePod().Obj(),
			[]*corev1.Node{n("a").Obj(), n("b").Taint("x", "", corev1.TaintEffectNoSchedule).Obj()}, []int64{0, 0}},
	} {
		got := st.Score(t, New(), c.pod, c.nodes...)
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
				break
			}
		}
	}
}
