package nodename

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
		{"no name, any node", pod().Obj(), node().Obj(), nil, framework.Success, ""},
		{"the named node", pod().Node("n1").Obj(), node().Obj(), nil, framework.Success, ""},
		{"another node", pod().Node("n2").Obj(), node().Obj(), nil, framework.UnschedulableAndUnresolvable, ErrReason},
	} {
		s := st.Filter(t, New(), c.pod, c.node, c.onNode...)
		if s.Code() != c.code || s.Message() != c.reason {
			t.Errorf("%s: %v %q, want %v %q", c.name, s.Code(), s.Message(), c.code, c.reason)
		}
	}
}
