package framework_test

import (
	"context"
	"testing"

	"skiff.dev/internal/scheduler/framework"
	st "skiff.dev/internal/scheduler/schedtest"
)

// fake is a plugin whose answers are set per test.
type fake struct {
	name      string
	preFilter *framework.Status
	filter    map[string]*framework.Status // by node
	score     map[string]int64
	calls     *[]string
	events    []framework.ClusterEvent
}

func (f *fake) Name() string { return f.name }

func (f *fake) PreFilter(context.Context, *framework.CycleState, *framework.PodInfo) *framework.Status {
	*f.calls = append(*f.calls, f.name+".PreFilter")
	return f.preFilter
}

func (f *fake) Filter(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, n *framework.NodeInfo) *framework.Status {
	*f.calls = append(*f.calls, f.name+".Filter")
	return f.filter[n.Name()]
}

func (f *fake) Score(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, n *framework.NodeInfo) (int64, *framework.Status) {
	return f.score[n.Name()], nil
}

func (f *fake) EventsToRegister() []framework.ClusterEvent { return f.events }

func nodes(names ...string) []*framework.NodeInfo {
	var out []*framework.NodeInfo
	for _, n := range names {
		out = append(out, framework.NewNodeInfo(st.MakeNode().Name(n).Obj()))
	}
	return out
}

func TestFrameworkRunsPluginsInOrderAndHonoursSkip(t *testing.T) {
	var calls []string
	a := &fake{name: "A", calls: &calls, preFilter: framework.NewStatus(framework.Skip)}
	b := &fake{name: "B", calls: &calls, filter: map[string]*framework.Status{"n2": framework.NewStatus(framework.Unschedulable, "no")}}
	fw, err := framework.New([]framework.Plugin{a, b}, nil)
	if err != nil {
		t.Fatal(err)
	}
	state := framework.NewCycleState()
	pod := framework.NewPodInfo(st.MakePod().Obj())
	if s := fw.RunPreFilter(t.Context(), state, pod); !s.IsSuccess() {
		t.Fatal(s)
	}
	ns := nodes("n1", "n2")
	if s := fw.RunFilter(t.Context(), state, pod, ns[0]); !s.IsSuccess() {
		t.Errorf("n1: %v", s)
	}
	s := fw.RunFilter(t.Context(), state, pod, ns[1])
	if s.Code() != framework.Unschedulable || s.Plugin() != "B" || s.Message() != "no" {
		t.Errorf("n2: %v %q %q, want Unschedulable from B: no", s.Code(), s.Plugin(), s.Message())
	}
	want := []string{"A.PreFilter", "B.PreFilter", "B.Filter", "B.Filter"}
	if len(calls) != len(want) {
		t.Fatalf("calls %v, want %v (A's Filter skipped)", calls, want)
	}
	for i := range want {
		if calls[i] != want[i] {
			t.Fatalf("calls %v, want %v", calls, want)
		}
	}
}

func TestFrameworkWeighsScores(t *testing.T) {
	var calls []string
	a := &fake{name: "A", calls: &calls, score: map[string]int64{"n1": 100, "n2": 0}}
	b := &fake{name: "B", calls: &calls, score: map[string]int64{"n1": 0, "n2": 60}}
	fw, err := framework.New([]framework.Plugin{a, b}, map[string]int64{"B": 2})
	if err != nil {
		t.Fatal(err)
	}
	totals := make([]int64, 2)
	if s := fw.RunScore(t.Context(), framework.NewCycleState(), framework.NewPodInfo(st.MakePod().Obj()), nodes("n1", "n2"), totals); !s.IsSuccess() {
		t.Fatal(s)
	}
	if totals[0] != 100 || totals[1] != 120 {
		t.Errorf("totals %v, want [100 120]", totals)
	}
	bad := &fake{name: "Bad", calls: &calls, score: map[string]int64{"n1": 101}}
	fw, _ = framework.New([]framework.Plugin{bad}, nil)
	if s := fw.RunScore(t.Context(), framework.NewCycleState(), framework.NewPodInfo(st.MakePod().Obj()), nodes("n1"), make([]int64, 1)); s.Code() != framework.Error {
		t.Errorf("a score over 100: %v, want an Error", s)
	}
}

func TestFrameworkInterested(t *testing.T) {
	var calls []string
	nodeAdd := framework.ClusterEvent{Resource: framework.Node, Action: framework.Add}
	podDelete := framework.ClusterEvent{Resource: framework.AssignedPod, Action: framework.Delete}
	taints := &fake{name: "Taints", calls: &calls, events: []framework.ClusterEvent{{Resource: framework.Node, Action: framework.Add | framework.UpdateNodeTaint}}}
	silent := &fake{name: "Silent", calls: &calls}
	fw, err := framework.New([]framework.Plugin{taints, silent}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ev      framework.ClusterEvent
		plugins map[string]bool
		want    bool
	}{
		{nodeAdd, map[string]bool{"Taints": true}, true},
		{podDelete, map[string]bool{"Taints": true}, false},
		{framework.ClusterEvent{Resource: framework.Node, Action: framework.UpdateNodeLabel}, map[string]bool{"Taints": true}, false},
		{podDelete, nil, true}, // rejected by nobody: any event may help
		{podDelete, map[string]bool{"Unknown": true}, true},
	} {
		if got := fw.Interested(c.ev, c.plugins); got != c.want {
			t.Errorf("Interested(%v, %v) = %v, want %v", c.ev, c.plugins, got, c.want)
		}
	}
	if _, err := framework.New([]framework.Plugin{taints, taints}, nil); err == nil {
		t.Error("a plugin listed twice was accepted")
	}
}
