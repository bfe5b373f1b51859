package nodename

import (
	"testing"

	"skiff.dev/internal/scheduler/framework"
	st "skiff.dev/internal/scheduler/schedtest"
)

func TestFilter(t *testing.T) {
	node := func() *st.NodeWrapper { return st.MakeNode().Name("n1").Capacity("cpu", "4", "pods", "10") }
	pod := func() *st.PodWrapper { return st.MakePod().Name("p") }
	st.RunFilterCases(t, New(), []st.FilterCase{
		{Name: "no name, any node", Pod: pod().Obj(), Node: node().Obj()},
		{Name: "the named node", Pod: pod().Node("n1").Obj(), Node: node().Obj()},
		{Name: "another node", Pod: pod().Node("n2").Obj(), Node: node().Obj(), Code: framework.UnschedulableAndUnresolvable, Reason: ErrReason},
	})
}
