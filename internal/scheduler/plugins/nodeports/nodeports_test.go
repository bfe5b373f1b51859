package nodeports

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
		{"no host ports", pod().Obj(), node().Obj(), []*corev1.Pod{st.MakePod().Name("x").HostPort(80).Obj()}, framework.Success, ""},
		{"free", pod().HostPort(8080).Obj(), node().Obj(), []*corev1.Pod{st.MakePod().Name("x").HostPort(80).Obj()}, framework.Success, ""},
		{"taken", pod().HostPort(80).Obj(), node().Obj(), []*corev1.Pod{st.MakePod().Name("x").HostPort(80).Obj()},
			framework.Unschedulable, ErrReason},
		{"taken on every address", pod().HostPortOn("10.0.0.1", corev1.ProtocolTCP, 80).Obj(), node().Obj(),
			[]*corev1.Pod{st.MakePod().Name("x").HostPort(80).Obj()}, framework.Unschedulable, ErrReason},
		{"other address", pod().HostPortOn("10.0.0.1", corev1.ProtocolTCP, 80).Obj(), node().Obj(),
			[]*corev1.Pod{st.MakePod().Name("x").HostPortOn("10.0.0.2", corev1.ProtocolTCP, 80).Obj()}, framework.Success, ""},
		{"other protocol", pod().HostPortOn("", corev1.ProtocolUDP, 53).Obj(), node().Obj(),
			[]*corev1.Pod{st.MakePod().Name("x").HostPort(53).Obj()}, framework.Success, ""},
	} {
		s := st.Filter(t, New(), c.pod, c.node, c.onNode...)
		if s.Code() != c.code || s.Message() != c.reason {
			t.Errorf("%s: %v %q, want %v %q", c.name, s.Code(), s.Message(), c.code, c.reason)
		}
	}
}
