package scheduler

import (
	"errors"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"skiff.dev/internal/scheduler/cache"
	"skiff.dev/internal/scheduler/framework"
	"skiff.dev/internal/scheduler/plugins"
	st "skiff.dev/internal/scheduler/schedtest"
)

func newTestAlgorithm(t testing.TB, percentage int32, parallelism int) *algorithm {
	t.Helper()
	fw, err := plugins.NewFramework()
	if err != nil {
		t.Fatal(err)
	}
	return newAlgorithm(fw, percentage, parallelism)
}

func snapshotOf(nodes ...*corev1.Node) *cache.Snapshot {
	infos := make([]*framework.NodeInfo, len(nodes))
	for i, n := range nodes {
		infos[i] = framework.NewNodeInfo(n)
	}
	return cache.NewSnapshotOf(infos...)
}

func TestNumFeasibleNodesToFind(t *testing.T) {
	for _, c := range []struct {
		percentage  int32
		nodes, want int
	}{
		{0, 10, 10},
		{0, 99, 99},
		{0, 100, 100},
		{0, 150, 100},     // 49% of 150 is 73, raised to the floor of 100
		{0, 1000, 420},    // 50% - 1000/125% = 42%
		{0, 1250, 500},    // 40%
		{0, 5000, 500},    // 10%
		{0, 6000, 300},    // 2%, raised to 5%
		{0, 100000, 5000}, // 5%
		{30, 1000, 300},   // configured
		{1, 1000, 100},    // never fewer than 100
		{100, 1000, 1000}, // all
		{50, 50, 50},      // small clusters: all
	} {
		a := newTestAlgorithm(t, c.percentage, 1)
		if got := a.numFeasibleNodesToFind(c.nodes); got != c.want {
			t.Errorf("percentage %d, %d nodes: %d, want %d", c.percentage, c.nodes, got, c.want)
		}
	}
}

func TestScheduleFitError(t *testing.T) {
	snap := snapshotOf(
		st.MakeNode().Name("worker").Capacity("cpu", "1", "pods", "10").Obj(),
		st.MakeNode().Name("cp1").Capacity("cpu", "8", "pods", "10").Taint("node-role.kubernetes.io/control-plane", "", corev1.TaintEffectNoSchedule).Obj(),
		st.MakeNode().Name("cp2").Capacity("cpu", "8", "pods", "10").Taint("node-role.kubernetes.io/control-plane", "", corev1.TaintEffectNoSchedule).Obj(),
	)
	a := newTestAlgorithm(t, 0, 1)
	pod := framework.NewPodInfo(st.MakePod().Name("p").Req("cpu", "2").Obj())
	_, err := a.schedule(t.Context(), framework.NewCycleState(), pod, snap)
	var fitErr *framework.FitError
	if !errors.As(err, &fitErr) {
		t.Fatalf("err = %v, want a FitError", err)
	}
	want := "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint(s). " +
		"preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
	if err.Error() != want {
		t.Errorf("message:\n%s\nwant\n%s", err, want)
	}
	if got := fitErr.Diagnosis.UnschedulablePlugins; len(got) != 2 || !got["NodeResourcesFit"] || !got["TaintToleration"] {
		t.Errorf("unschedulable plugins %v, want NodeResourcesFit and TaintToleration", got)
	}
	if _, err := a.schedule(t.Context(), framework.NewCycleState(), pod, cache.NewSnapshot()); !errors.Is(err, errNoNodesAvailable) {
		t.Errorf("no nodes: %v, want %v", err, errNoNodesAvailable)
	}
}

// TestScheduleStopsAtEnoughFeasibleNodes: with 1,000 nodes a cycle looks
// at 420 feasible ones, and the next cycle starts where it stopped.
func TestScheduleStopsAtEnoughFeasibleNodes(t *testing.T) {
	for _, parallelism := range []int{1, 4} {
		t.Run(fmt.Sprint("parallelism ", parallelism), func(t *testing.T) {
			var nodes []*corev1.Node
			for i := range 1000 {
				nodes = append(nodes, st.MakeNode().Name(fmt.Sprintf("n%04d", i)).Capacity("cpu", "4", "pods", "110").Obj())
			}
			a := newTestAlgorithm(t, 0, parallelism)
			res, err := a.schedule(t.Context(), framework.NewCycleState(), framework.NewPodInfo(st.MakePod().Name("p").Obj()), snapshotOf(nodes...))
			if err != nil {
				t.Fatal(err)
			}
			if res.feasible != 420 || res.evaluated != 420 || a.nextStart != 420 {
				t.Errorf("evaluated %d, feasible %d, next start %d; want 420 each", res.evaluated, res.feasible, a.nextStart)
			}
		})
	}
}

// TestSchedulePrefersLeastAllocated: among fitting nodes the emptiest
// wins; a node the pod does not fit is never chosen.
func TestSchedulePrefersLeastAllocated(t *testing.T) {
	busy := framework.NewNodeInfo(st.MakeNode().Name("busy").Capacity("cpu", "4", "memory", "8Gi", "pods", "10").Obj(),
		framework.NewPodInfo(st.MakePod().Name("a").Node("busy").Req("cpu", "3", "memory", "6Gi").Obj()))
	idle := framework.NewNodeInfo(st.MakeNode().Name("idle").Capacity("cpu", "4", "memory", "8Gi", "pods", "10").Obj())
	tiny := framework.NewNodeInfo(st.MakeNode().Name("tiny").Capacity("cpu", "100m", "memory", "8Gi", "pods", "10").Obj())
	snap := cache.NewSnapshotOf(busy, idle, tiny)
	a := newTestAlgorithm(t, 0, 1)
	for range 20 {
		res, err := a.schedule(t.Context(), framework.NewCycleState(), framework.NewPodInfo(st.MakePod().Name("p").Req("cpu", "500m").Obj()), snap)
		if err != nil {
			t.Fatal(err)
		}
		if res.node != "idle" {
			t.Fatalf("chose %s, want idle", res.node)
		}
	}
}

// TestPodsWithoutRequestsSpread: pods that request nothing still count
// 100m and 200Mi when nodes are scored, so they spread evenly instead of
// piling onto one node.
func TestPodsWithoutRequestsSpread(t *testing.T) {
	c := cache.New()
	for _, name := range []string{"a", "b", "c"} {
		c.AddNode(st.MakeNode().Name(name).Capacity("cpu", "4", "memory", "8Gi", "pods", "110").Obj())
	}
	a, snap := newTestAlgorithm(t, 0, 1), cache.NewSnapshot()
	perNode := map[string]int{}
	for i := range 30 {
		pod := framework.NewPodInfo(st.MakePod().Name(fmt.Sprint("p", i)).Req().Obj())
		c.UpdateSnapshot(snap)
		res, err := a.schedule(t.Context(), framework.NewCycleState(), pod, snap)
		if err != nil {
			t.Fatal(err)
		}
		assumed := *pod.Pod
		assumed.Spec.NodeName = res.node
		info := *pod
		info.Pod = &assumed
		if err := c.AssumePod(&info); err != nil {
			t.Fatal(err)
		}
		perNode[res.node]++
	}
	if perNode["a"] != 10 || perNode["b"] != 10 || perNode["c"] != 10 {
		t.Errorf("pods per node %v, want 10 each", perNode)
	}
}

func TestSelectHostBreaksTiesAtRandom(t *testing.T) {
	a := newTestAlgorithm(t, 0, 1)
	seen := map[int]int{}
	for range 300 {
		seen[a.selectHost([]int64{5, 9, 1, 9, 9})]++
	}
	if len(seen) != 3 || seen[1] == 0 || seen[3] == 0 || seen[4] == 0 {
		t.Errorf("picks %v, want each of 1, 3 and 4", seen)
	}
}

// BenchmarkScheduleCycle is one cycle's decision work on 1,000 nodes
// holding 10 pods each: snapshot update, filter, score, assume.
func BenchmarkScheduleCycle(b *testing.B) {
	for _, parallelism := range []int{1, 2} {
		b.Run(fmt.Sprint("parallelism=", parallelism), func(b *testing.B) {
			c := cache.New()
			for i := range 1000 {
				name := fmt.Sprintf("n%04d", i)
				c.AddNode(st.MakeNode().Name(name).Capacity("cpu", "32", "memory", "128Gi", "pods", "110").Obj())
				for j := range 10 {
					c.AddPod(st.MakePod().Name(fmt.Sprintf("%s-%d", name, j)).Node(name).Req("cpu", "100m", "memory", "128Mi").Obj())
				}
			}
			a := newTestAlgorithm(b, 0, parallelism)
			snap := cache.NewSnapshot()
			pods := make([]*framework.PodInfo, b.N)
			for i := range pods {
				pods[i] = framework.NewPodInfo(st.MakePod().Name(fmt.Sprint("p", i)).Req("cpu", "100m", "memory", "128Mi").Obj())
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				c.UpdateSnapshot(snap)
				res, err := a.schedule(b.Context(), framework.NewCycleState(), pods[i], snap)
				if err != nil {
					b.Fatal(err)
				}
				assumed := *pods[i].Pod
				assumed.Spec.NodeName = res.node
				info := *pods[i]
				info.Pod = &assumed
				if err := c.AssumePod(&info); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
