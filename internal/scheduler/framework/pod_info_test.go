package framework_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"skiff.dev/internal/scheduler/framework"
	st "skiff.dev/internal/scheduler/schedtest"
)

const mi = 1024 * 1024

func TestNewPodInfoRequests(t *testing.T) {
	for _, c := range []struct {
		name              string
		pod               *corev1.Pod
		cpu, mem          int64 // Requests
		nonZeroCPU, nzMem int64
		gpu               int64
	}{
		{"no requests count the defaults when scoring", st.MakePod().Req().Obj(), 0, 0, 100, 200 * mi, 0},
		{"two empty containers count the defaults twice", st.MakePod().Req().Req().Obj(), 0, 0, 200, 400 * mi, 0},
		{"cpu only: memory defaults", st.MakePod().Req("cpu", "1").Obj(), 1000, 0, 1000, 200 * mi, 0},
		{"containers add up", st.MakePod().Req("cpu", "1", "memory", "1Gi").Req("cpu", "500m").Obj(), 1500, 1024 * mi, 1500, 1024 * mi, 0},
		{"an init container larger than the containers wins",
			st.MakePod().Req("cpu", "1").InitReq("cpu", "3").Obj(), 3000, 0, 3000, 200 * mi, 0},
		{"sidecars run alongside: added to the containers and to later init containers",
			st.MakePod().SidecarReq("cpu", "1").InitReq("cpu", "1500m").Req("cpu", "1").Obj(), 2500, 0, 2500, 400 * mi, 0},
		{"overhead is added", st.MakePod().Req("cpu", "1", "memory", "1Gi").Overhead("cpu", "250m", "memory", "64Mi").Obj(),
			1250, 1088 * mi, 1250, 1088 * mi, 0},
		{"extended resources", st.MakePod().Req("cpu", "1", "example.com/gpu", "2").Obj(), 1000, 0, 1000, 200 * mi, 2},
	} {
		pi := framework.NewPodInfo(c.pod)
		r := pi.Requests
		if r.MilliCPU != c.cpu || r.Memory != c.mem || pi.NonZeroMilliCPU != c.nonZeroCPU || pi.NonZeroMemory != c.nzMem ||
			r.Scalar["example.com/gpu"] != c.gpu {
			t.Errorf("%s: cpu %d mem %d non-zero %d/%d gpu %d; want %d %d %d/%d %d", c.name,
				r.MilliCPU, r.Memory, pi.NonZeroMilliCPU, pi.NonZeroMemory, r.Scalar["example.com/gpu"],
				c.cpu, c.mem, c.nonZeroCPU, c.nzMem, c.gpu)
		}
	}
}

func TestNodeInfoAddRemoveClone(t *testing.T) {
	n := framework.NewNodeInfo(st.MakeNode().Name("n").Capacity("cpu", "4", "memory", "8Gi", "pods", "10").Obj())
	a := framework.NewPodInfo(st.MakePod().Name("a").Req("cpu", "1").HostPort(80).Obj()) // two containers, no memory requests
	b := framework.NewPodInfo(st.MakePod().Name("b").Req("cpu", "2", "memory", "1Gi").Obj())
	n.AddPod(a)
	c := n.Clone()
	c.AddPod(b)
	if n.Requested.MilliCPU != 1000 || len(n.Pods) != 1 {
		t.Errorf("the original changed with its clone: %d mcpu, %d pods", n.Requested.MilliCPU, len(n.Pods))
	}
	if c.Requested.MilliCPU != 3000 || c.NonZeroMemory != 400*mi+1024*mi || len(c.UsedPorts) != 1 {
		t.Errorf("clone: %d mcpu, %d non-zero memory, ports %v", c.Requested.MilliCPU, c.NonZeroMemory, c.UsedPorts)
	}
	if !c.RemovePod(a.Pod.UID) || c.Requested.MilliCPU != 2000 || len(c.UsedPorts) != 0 || len(c.Pods) != 1 {
		t.Errorf("after removing a: %d mcpu, ports %v, %d pods", c.Requested.MilliCPU, c.UsedPorts, len(c.Pods))
	}
	if c.RemovePod("nope") {
		t.Error("removed a pod that was not there")
	}
}

func TestHostPortConflicts(t *testing.T) {
	tcp := func(ip string, port int32) framework.HostPort {
		return framework.HostPort{IP: ip, Protocol: corev1.ProtocolTCP, Port: port}
	}
	for _, c := range []struct {
		a, b framework.HostPort
		want bool
	}{
		{tcp("0.0.0.0", 80), tcp("0.0.0.0", 80), true},
		{tcp("0.0.0.0", 80), tcp("10.0.0.1", 80), true},
		{tcp("10.0.0.2", 80), tcp("10.0.0.1", 80), false},
		{tcp("0.0.0.0", 80), tcp("0.0.0.0", 81), false},
		{tcp("0.0.0.0", 53), framework.HostPort{IP: "0.0.0.0", Protocol: corev1.ProtocolUDP, Port: 53}, false},
	} {
		if got := c.a.Conflicts(c.b); got != c.want {
			t.Errorf("%v vs %v: %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
