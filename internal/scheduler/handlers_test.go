package scheduler

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"skiff.dev/internal/scheduler/framework"
	st "skiff.dev/internal/scheduler/schedtest"
)

func TestNodeChange(t *testing.T) {
	base := func() *st.NodeWrapper {
		return st.MakeNode().Name("n").Capacity("cpu", "4", "pods", "110").Label("zone", "a")
	}
	heartbeat := base().Obj()
	heartbeat.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	for _, c := range []struct {
		name string
		cur  *corev1.Node
		want framework.ActionType
	}{
		{"nothing that matters", heartbeat, 0},
		{"allocatable", st.MakeNode().Name("n").Capacity("cpu", "8", "pods", "110").Label("zone", "a").Obj(), framework.UpdateNodeAllocatable},
		{"labels", base().Label("disk", "ssd").Obj(), framework.UpdateNodeLabel},
		{"taints", base().Taint("k", "v", corev1.TaintEffectNoSchedule).Obj(), framework.UpdateNodeTaint},
		{"cordoned", base().Unschedulable().Obj(), framework.UpdateNodeTaint},
		{"labels and taints", base().Label("disk", "ssd").Taint("k", "", corev1.TaintEffectNoExecute).Obj(),
			framework.UpdateNodeLabel | framework.UpdateNodeTaint},
	} {
		if got := nodeChange(base().Obj(), c.cur); got != c.want {
			t.Errorf("%s: %b, want %b", c.name, got, c.want)
		}
	}
	tainted := base().Taint("k", "v1", corev1.TaintEffectNoSchedule).Obj()
	if got := nodeChange(tainted, base().Taint("k", "v2", corev1.TaintEffectNoSchedule).Obj()); got != framework.UpdateNodeTaint {
		t.Errorf("a taint's value changed: %b, want UpdateNodeTaint", got)
	}
}

func TestTruncate(t *testing.T) {
	if got := truncate("abcdef", 10); got != "abcdef" {
		t.Errorf("short: %q", got)
	}
	if got := truncate("abcdefghijkl", 8); got != "abcde..." {
		t.Errorf("long: %q", got)
	}
}
