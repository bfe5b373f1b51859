package noderesources

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"skiff.dev/internal/scheduler/framework"
	st "skiff.dev/internal/scheduler/schedtest"
)

func nodeWith(capacity []string, pods ...*corev1.Pod) *framework.NodeInfo {
	n := framework.NewNodeInfo(st.MakeNode().Name("n").Capacity(capacity...).Obj())
	for _, p := range pods {
		n.AddPod(framework.NewPodInfo(p))
	}
	return n
}

func TestFitFilter(t *testing.T) {
	fit, err := NewFit(DefaultFitArgs())
	if err != nil {
		t.Fatal(err)
	}
	capacity := []string{"cpu", "4", "memory", "8Gi", "ephemeral-storage", "10Gi", "pods", "3", "example.com/gpu", "2"}
	running := st.MakePod().Name("running").Req("cpu", "3", "memory", "4Gi", "example.com/gpu", "1").Obj()
	for _, c := range []struct {
		name    string
		pod     *corev1.Pod
		node    *framework.NodeInfo
		code    framework.Code
		reasons []string
	}{
		{"fits", st.MakePod().Req("cpu", "1", "memory", "4Gi").Obj(), nodeWith(capacity, running), framework.Success, nil},
		{"no requests fit anywhere with room for a pod", st.MakePod().Req().Obj(), nodeWith(capacity, running), framework.Success, nil},
		{"insufficient cpu", st.MakePod().Req("cpu", "1500m").Obj(), nodeWith(capacity, running),
			framework.Unschedulable, []string{"Insufficient cpu"}},
		{"insufficient cpu and memory", st.MakePod().Req("cpu", "2", "memory", "5Gi").Obj(), nodeWith(capacity, running),
			framework.Unschedulable, []string{"Insufficient cpu", "Insufficient memory"}},
		{"more than the whole node is unresolvable", st.MakePod().Req("cpu", "5").Obj(), nodeWith(capacity),
			framework.UnschedulableAndUnresolvable, []string{"Insufficient cpu"}},
		{"ephemeral storage", st.MakePod().Req("ephemeral-storage", "11Gi").Obj(), nodeWith(capacity),
			framework.UnschedulableAndUnresolvable, []string{"Insufficient ephemeral-storage"}},
		{"extended resource", st.MakePod().Req("example.com/gpu", "2").Obj(), nodeWith(capacity, running),
			framework.Unschedulable, []string{"Insufficient example.com/gpu"}},
		{"extended resource the node lacks", st.MakePod().Req("example.com/fpga", "1").Obj(), nodeWith(capacity),
			framework.UnschedulableAndUnresolvable, []string{"Insufficient example.com/fpga"}},
		{"too many pods", st.MakePod().Req().Obj(),
			nodeWith(capacity, st.MakePod().Name("a").Obj(), st.MakePod().Name("b").Obj(), st.MakePod().Name("c").Obj()),
			framework.Unschedulable, []string{"Too many pods"}},
		{"a node without a pods capacity takes none", st.MakePod().Req().Obj(), nodeWith([]string{"cpu", "4"}),
			framework.Unschedulable, []string{"Too many pods"}},
		{"the init container's peak counts", st.MakePod().Req("cpu", "500m").InitReq("cpu", "2").Obj(), nodeWith(capacity, running),
			framework.Unschedulable, []string{"Insufficient cpu"}},
		{"sidecars add to the containers", st.MakePod().SidecarReq("cpu", "600m").Req("cpu", "500m").Obj(), nodeWith(capacity, running),
			framework.Unschedulable, []string{"Insufficient cpu"}},
		{"overhead counts", st.MakePod().Req("cpu", "900m").Overhead("cpu", "200m").Obj(), nodeWith(capacity, running),
			framework.Unschedulable, []string{"Insufficient cpu"}},
	} {
		s := fit.Filter(t.Context(), framework.NewCycleState(), framework.NewPodInfo(c.pod), c.node)
		if s.Code() != c.code || !equal(s.Reasons(), c.reasons) {
			t.Errorf("%s: %v %q, want %v %q", c.name, s.Code(), s.Reasons(), c.code, c.reasons)
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFitScore(t *testing.T) {
	capacity := []string{"cpu", "4", "memory", "10Gi", "pods", "110"}
	least, _ := NewFit(DefaultFitArgs())
	most, _ := NewFit(FitArgs{Strategy: MostAllocated, Resources: defaultResources})
	for _, c := range []struct {
		name                string
		pod                 *corev1.Pod
		node                *framework.NodeInfo
		wantLeast, wantMost int64
	}{
		// cpu (4000-1000)/4000 = 75, memory (10-5)/10 = 50: mean 62.
		{"half the memory and a quarter of the cpu", st.MakePod().Req("cpu", "1", "memory", "5Gi").Obj(), nodeWith(capacity), 62, 37},
		// The pod counts as 100m and 200Mi: 97 and 98 left, 2 and 1 used.
		{"a pod without requests still counts", st.MakePod().Req().Obj(), nodeWith(capacity), 97, 1},
		{"over capacity scores 0 (least) and 100 (most)", st.MakePod().Req("cpu", "8", "memory", "20Gi").Obj(), nodeWith(capacity), 0, 100},
		// 3 cpu used: (4000-3000-1000)/4000 = 0; memory 10-1-1 = 80.
		{"pods already there count", st.MakePod().Req("cpu", "1", "memory", "1Gi").Obj(),
			nodeWith(capacity, st.MakePod().Name("x").Req("cpu", "3", "memory", "1Gi").Obj()), 40, 60},
	} {
		pi := framework.NewPodInfo(c.pod)
		if got, _ := least.Score(t.Context(), nil, pi, c.node); got != c.wantLeast {
			t.Errorf("%s: LeastAllocated %d, want %d", c.name, got, c.wantLeast)
		}
		if got, _ := most.Score(t.Context(), nil, pi, c.node); got != c.wantMost {
			t.Errorf("%s: MostAllocated %d, want %d", c.name, got, c.wantMost)
		}
	}
}

func TestNewFitValidates(t *testing.T) {
	for _, args := range []FitArgs{
		{Strategy: "Random", Resources: defaultResources},
		{Strategy: LeastAllocated},
		{Strategy: LeastAllocated, Resources: []ResourceWeight{{corev1.ResourceCPU, 0}}},
		{Strategy: LeastAllocated, Resources: []ResourceWeight{{corev1.ResourceCPU, 1}, {corev1.ResourceCPU, 1}}},
	} {
		if _, err := NewFit(args); err == nil {
			t.Errorf("NewFit(%+v) accepted", args)
		}
	}
}

func TestBalancedAllocation(t *testing.T) {
	ba, err := NewBalancedAllocation()
	if err != nil {
		t.Fatal(err)
	}
	capacity := []string{"cpu", "4", "memory", "8Gi", "pods", "110"}
	for _, c := range []struct {
		name string
		pod  *corev1.Pod
		node *framework.NodeInfo
		want int64
	}{
		{"equal shares", st.MakePod().Req("cpu", "2", "memory", "4Gi").Obj(), nodeWith(capacity), 100},
		// cpu 1/4 = .25, memory 6/8 = .75: σ = .25.
		{"unequal shares", st.MakePod().Req("cpu", "1", "memory", "6Gi").Obj(), nodeWith(capacity), 75},
		// cpu 3/4, memory 2/8 (the pod's 1Gi and the running pod's 1Gi).
		{"pods already there count", st.MakePod().Req("cpu", "1", "memory", "1Gi").Obj(),
			nodeWith(capacity, st.MakePod().Name("x").Req("cpu", "2", "memory", "1Gi").Obj()), 75},
		{"fractions are capped at 1", st.MakePod().Req("cpu", "8", "memory", "4Gi").Obj(), nodeWith(capacity), 75},
	} {
		pi := framework.NewPodInfo(c.pod)
		if s := ba.PreScore(t.Context(), nil, pi, nil); !s.IsSuccess() {
			t.Fatalf("%s: PreScore %v", c.name, s)
		}
		if got, _ := ba.Score(t.Context(), nil, pi, c.node); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	if s := ba.PreScore(t.Context(), nil, framework.NewPodInfo(st.MakePod().Req().Obj()), nil); !s.IsSkip() {
		t.Errorf("a best-effort pod: PreScore %v, want Skip", s)
	}
}
