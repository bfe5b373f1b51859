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
	for _, c := range []struct {
		name   string
		pod    *corev1.Pod
		node   *corev1.Node
		onNode []*corev1.Pod
		code   framework.Code
		reason string
	}{
		{"nothing asked", pod().Obj(), node().Obj(), nil, framework.Success, ""},
		{"selector matches", pod().NodeSelector("disk", "ssd").Obj(), node().Label("disk", "ssd").Obj(), nil, framework.Success, ""},
		{"selector does not", pod().NodeSelector("disk", "ssd").Obj(), node().Label("disk", "hdd").Obj(), nil,
			framework.UnschedulableAndUnresolvable, ErrReasonPod},
		{"required term matches", pod().RequiredNodeAffinityIn("zone", "a", "b").Obj(),
			node().Label("zone", "b").Obj(), nil, framework.Success, ""},
		{"terms are ORed", pod().RequiredNodeAffinityIn("zone", "a").RequiredNodeAffinityIn("disk", "ssd").Obj(),
			node().Label("disk", "ssd").Obj(), nil, framework.Success, ""},
		{"no term matches", pod().RequiredNodeAffinityIn("zone", "a").Obj(),
			node().Label("zone", "c").Obj(), nil, framework.UnschedulableAndUnresolvable, ErrReasonPod},
		{"selector and affinity both apply", pod().NodeSelector("disk", "ssd").RequiredNodeAffinityIn("zone", "a").Obj(),
			node().Label("zone", "a").Obj(), nil, framework.UnschedulableAndUnresolvable, ErrReasonPod},
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
		{"preferred terms' weights, normalized",
			st.MakePod().PreferredNodeAffinityIn(20, "zone", "a").PreferredNodeAffinityIn(60, "disk", "ssd").Obj(),
			[]*corev1.Node{n("a").Label("zone", "a").Obj(), n("b").Label("disk", "ssd").Obj(),
				n("c").Label("zone", "a").Label("disk", "ssd").Obj(), n("d").Obj()},
			[]int64{25, 75, 100, 0}},
		{"no preferences, no score", st.MakePod().Obj(),
			[]*corev1.Node{n("a").Label("zone", "a").Obj(), n("b").Obj()}, []int64{0, 0}},
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
