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
	st.RunFilterCases(t, New(), []st.FilterCase{
		{Name: "untainted", Pod: pod().Obj(), Node: node().Obj()},
		{Name: "NoSchedule", Pod: pod().Obj(),
			Node: node().Taint("dedicated", "infra", corev1.TaintEffectNoSchedule).Obj(),
			Code: framework.UnschedulableAndUnresolvable, Reason: ErrReasonNotMatch},
		{Name: "NoExecute", Pod: pod().Obj(),
			Node: node().Taint("node.kubernetes.io/not-ready", "", corev1.TaintEffectNoExecute).Obj(),
			Code: framework.UnschedulableAndUnresolvable, Reason: ErrReasonNotMatch},
		{Name: "PreferNoSchedule does not filter", Pod: pod().Obj(),
			Node: node().Taint("soft", "", corev1.TaintEffectPreferNoSchedule).Obj()},
		{Name: "tolerated by value", Pod: pod().Toleration("dedicated", "infra", corev1.TaintEffectNoSchedule).Obj(),
			Node: node().Taint("dedicated", "infra", corev1.TaintEffectNoSchedule).Obj()},
		{Name: "another value", Pod: pod().Toleration("dedicated", "db", corev1.TaintEffectNoSchedule).Obj(),
			Node: node().Taint("dedicated", "infra", corev1.TaintEffectNoSchedule).Obj(),
			Code: framework.UnschedulableAndUnresolvable, Reason: ErrReasonNotMatch},
		{Name: "Exists with any effect", Pod: pod().Toleration("dedicated", "", "").Obj(),
			Node: node().Taint("dedicated", "infra", corev1.TaintEffectNoExecute).Obj()},
	})
}

func TestScore(t *testing.T) {
	n := func(name string) *st.NodeWrapper { return st.MakeNode().Name(name) }
	st.RunScoreCases(t, New(), []st.ScoreCase{
		{Name: "fewer untolerated PreferNoSchedule taints score higher", Pod: st.MakePod().Obj(),
			Nodes: []*corev1.Node{
				n("a").Obj(),
				n("b").Taint("x", "", corev1.TaintEffectPreferNoSchedule).Obj(),
				n("c").Taint("x", "", corev1.TaintEffectPreferNoSchedule).Taint("y", "", corev1.TaintEffectPreferNoSchedule).Obj(),
			}, Want: []int64{100, 50, 0}},
		{Name: "tolerated taints do not count",
			Pod:   st.MakePod().Toleration("x", "", corev1.TaintEffectPreferNoSchedule).Obj(),
			Nodes: []*corev1.Node{n("a").Taint("x", "", corev1.TaintEffectPreferNoSchedule).Obj(), n("b").Taint("y", "", corev1.TaintEffectPreferNoSchedule).Obj()},
			Want:  []int64{100, 0}},
		{Name: "no soft taints anywhere", Pod: st.MakePod().Obj(),
			Nodes: []*corev1.Node{n("a").Obj(), n("b").Taint("x", "", corev1.TaintEffectNoSchedule).Obj()}, Want: []int64{0, 0}},
	})
}
