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
	st.RunFilterCases(t, New(), []st.FilterCase{
		{Name: "no host ports", Pod: pod().Obj(), Node: node().Obj(), OnNode: []*corev1.Pod{st.MakePod().Name("x").HostPort(80).Obj()}},
		{Name: "free", Pod: pod().HostPort(8080).Obj(), Node: node().Obj(), OnNode: []*corev1.Pod{st.MakePod().Name("x").HostPort(80).Obj()}},
		{Name: "taken", Pod: pod().HostPort(80).Obj(), Node: node().Obj(), OnNode: []*corev1.Pod{st.MakePod().Name("x").HostPort(80).Obj()},
			Code: framework.Unschedulable, Reason: ErrReason},
		{Name: "taken on every address", Pod: pod().HostPortOn("10.0.0.1", corev1.ProtocolTCP, 80).Obj(), Node: node().Obj(),
			OnNode: []*corev1.Pod{st.MakePod().Name("x").HostPort(80).Obj()}, Code: framework.Unschedulable, Reason: ErrReason},
		{Name: "other address", Pod: pod().HostPortOn("10.0.0.1", corev1.ProtocolTCP, 80).Obj(), Node: node().Obj(),
			OnNode: []*corev1.Pod{st.MakePod().Name("x").HostPortOn("10.0.0.2", corev1.ProtocolTCP, 80).Obj()}},
		{Name: "other protocol", Pod: pod().HostPortOn("", corev1.ProtocolUDP, 53).Obj(), Node: node().Obj(),
			OnNode: []*corev1.Pod{st.MakePod().Name("x").HostPort(53).Obj()}},
	})
}
