package nodeaffinity

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
		{Name: "nothing asked", Pod: pod().Obj(), Node: node().Obj()},
		{Name: "selector matches", Pod: pod().NodeSelector("disk", "ssd").Obj(), Node: node().Label("disk", "ssd").Obj()},
		{Name: "selector does not", Pod: pod().NodeSelector("disk", "ssd").Obj(), Node: node().Label("disk", "hdd").Obj(),
			Code: framework.UnschedulableAndUnresolvable, Reason: ErrReasonPod},
		{Name: "required term matches", Pod: pod().RequiredNodeAffinityIn("zone", "a", "b").Obj(),
			Node: node().Label("zone", "b").Obj()},
		{Name: "terms are ORed", Pod: pod().RequiredNodeAffinityIn("zone", "a").RequiredNodeAffinityIn("disk", "ssd").Obj(),
			Node: node().Label("disk", "ssd").Obj()},
		{Name: "no term matches", Pod: pod().RequiredNodeAffinityIn("zone", "a").Obj(),
			Node: node().Label("zone", "c").Obj(), Code: framework.UnschedulableAndUnresolvable, Reason: ErrReasonPod},
		{Name: "selector and affinity both apply", Pod: pod().NodeSelector("disk", "ssd").RequiredNodeAffinityIn("zone", "a").Obj(),
			Node: node().Label("zone", "a").Obj(), Code: framework.UnschedulableAndUnresolvable, Reason: ErrReasonPod},
	})
}

func TestScore(t *testing.T) {
	n := func(name string) *st.NodeWrapper { return st.MakeNode().Name(name) }
	st.RunScoreCases(t, New(), []st.ScoreCase{
		{Name: "preferred terms' weights, normalized",
			Pod: st.MakePod().PreferredNodeAffinityIn(20, "zone", "a").PreferredNodeAffinityIn(60, "disk", "ssd").Obj(),
			Nodes: []*corev1.Node{n("a").Label("zone", "a").Obj(), n("b").Label("disk", "ssd").Obj(),
				n("c").Label("zone", "a").Label("disk", "ssd").Obj(), n("d").Obj()},
			Want: []int64{25, 75, 100, 0}},
		{Name: "no preferences, no score", Pod: st.MakePod().Obj(),
			Nodes: []*corev1.Node{n("a").Label("zone", "a").Obj(), n("b").Obj()}, Want: []int64{0, 0}},
	})
}
