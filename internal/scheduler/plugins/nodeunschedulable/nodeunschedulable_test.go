package nodeunschedulable

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
		{Name: "schedulable", Pod: pod().Obj(), Node: node().Obj()},
		{Name: "cordoned", Pod: pod().Obj(), Node: node().Unschedulable().Obj(),
			Code: framework.UnschedulableAndUnresolvable, Reason: ErrReasonUnschedulable},
		{Name: "cordoned, tolerated",
			Pod: pod().Toleration(corev1.TaintNodeUnschedulable, "", corev1.TaintEffectNoSchedule).Obj(), Node: node().Unschedulable().Obj()},
		{Name: "tolerating everything",
			Pod: pod().Toleration("", "", "").Obj(), Node: node().Unschedulable().Obj()},
	})
}
