package framework_test

import (
	"testing"

	"skiff.dev/internal/scheduler/framework"
	st "skiff.dev/internal/scheduler/schedtest"
)

// The per-node evaluation through the real plugins is tested with whole
// cycles in package scheduler; these are the cases no plugin of skiff's
// produces.
func TestPreemptionMessage(t *testing.T) {
	unschedulable := framework.NewStatus(framework.Unschedulable, "no")
	lowPod := framework.NewPodInfo(st.MakePod().Name("low").Node("busy").Priority(-1).Obj())
	empty := framework.NewNodeInfo(st.MakeNode().Name("empty").Obj())
	busy := framework.NewNodeInfo(st.MakeNode().Name("busy").Obj(), lowPod)
	for _, c := range []struct {
		name   string
		filter map[string]*framework.Status
		diag   framework.Diagnosis
		want   string
	}{{
		name: "a PreFilter rejection as Unschedulable: the PreFilter's reasons where there are victims",
		diag: framework.Diagnosis{PreFilterStatus: unschedulable},
		want: "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 no.",
	}, {
		name: "a PreFilter rejection as UnschedulableAndUnresolvable",
		diag: framework.Diagnosis{PreFilterStatus: framework.NewStatus(framework.UnschedulableAndUnresolvable, "no")},
		want: "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
	}, {
		name:   "a filter error in the dry run is the whole preemption part",
		filter: map[string]*framework.Status{"busy": framework.NewStatus(framework.Error, "boom")},
		diag:   framework.Diagnosis{NodeToStatus: map[string]*framework.Status{"busy": unschedulable, "empty": unschedulable}},
		want:   "preemption: boom",
	}} {
		var calls []string
		fw, err := framework.New([]framework.Plugin{&fake{name: "F", calls: &calls, filter: c.filter}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		pod := framework.NewPodInfo(st.MakePod().Name("p").Obj())
		got := fw.PreemptionMessage(t.Context(), framework.NewCycleState(), pod, []*framework.NodeInfo{busy, empty}, &c.diag)
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}
