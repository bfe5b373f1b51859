package nodelifecycle

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/internal/controllers/ctrl"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// node builds a node created at t0 with the given conditions.
func node(conds ...corev1.NodeCondition) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", CreationTimestamp: metav1.NewTime(t0)},
		Status: corev1.NodeStatus{Conditions: conds}}
}

func ready(status corev1.ConditionStatus, heartbeat time.Time) corev1.NodeCondition {
	return corev1.NodeCondition{Type: corev1.NodeReady, Status: status, Reason: "KubeletReady",
		LastHeartbeatTime: metav1.NewTime(heartbeat), LastTransitionTime: metav1.NewTime(t0)}
}

func lease(renew time.Time) *coordinationv1.Lease {
	return &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{RenewTime: &metav1.MicroTime{Time: renew}}}
}

var opts = ctrl.Options{NodeMonitorGracePeriod: 40 * time.Second, NodeStartupGracePeriod: 60 * time.Second}

func TestSilence(t *testing.T) {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	type step struct {
		now    int // seconds after t0
		node   *corev1.Node
		lease  *coordinationv1.Lease
		silent bool
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"lease renewals keep a node alive", []step{
			{10, node(ready(corev1.ConditionTrue, at(5))), lease(at(10)), false},
			{45, node(ready(corev1.ConditionTrue, at(5))), lease(at(40)), false},
			{80, node(ready(corev1.ConditionTrue, at(5))), lease(at(75)), false},
		}},
		{"status heartbeats alone keep a node alive", []step{
			{10, node(ready(corev1.ConditionTrue, at(10))), nil, false},
			{45, node(ready(corev1.ConditionTrue, at(45))), nil, false},
			{80, node(ready(corev1.ConditionTrue, at(80))), nil, false},
		}},
		{"silent after the grace period since last heard", []step{
			{10, node(ready(corev1.ConditionTrue, at(5))), lease(at(10)), false},
			{30, node(ready(corev1.ConditionTrue, at(5))), lease(at(30)), false},
			{70, node(ready(corev1.ConditionTrue, at(5))), lease(at(30)), false},
			{71, node(ready(corev1.ConditionTrue, at(5))), lease(at(30)), true},
		}},
		{"a first sight counts as heard now, whatever the times say", []step{
			{1000, node(ready(corev1.ConditionTrue, at(5))), lease(at(10)), false},
			{1040, node(ready(corev1.ConditionTrue, at(5))), lease(at(10)), false},
			{1041, node(ready(corev1.ConditionTrue, at(5))), lease(at(10)), true},
		}},
		{"a node's clock far behind does not matter", []step{
			{10, node(ready(corev1.ConditionTrue, at(-3600))), lease(at(-3600)), false},
			{45, node(ready(corev1.ConditionTrue, at(-3600))), lease(at(-3565)), false},
			{80, node(ready(corev1.ConditionTrue, at(-3600))), lease(at(-3530)), false},
		}},
		{"a node that never posted status gets the startup grace from creation", []step{
			{30, node(), nil, false},
			{60, node(), nil, false},
			{61, node(), nil, true},
		}},
		{"a lease on a node without status counts as heard", []step{
			{30, node(), nil, false},
			{55, node(), lease(at(55)), false},
			{110, node(), lease(at(55)), false},
			{116, node(), lease(at(55)), true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p *probe
			for i, s := range tc.steps {
				next := observe(p, s.node, s.lease, at(s.now))
				p = &next
				if got := silent(next, s.node, opts, at(s.now)); got != s.silent {
					t.Fatalf("step %d (t=%ds): silent = %v, want %v", i, s.now, got, s.silent)
				}
			}
		})
	}
}

func TestMarkUnknown(t *testing.T) {
	now := metav1.NewTime(t0.Add(time.Hour))
	n := node(ready(corev1.ConditionTrue, t0),
		corev1.NodeCondition{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, LastHeartbeatTime: metav1.NewTime(t0)},
		corev1.NodeCondition{Type: corev1.NodeDiskPressure, Status: corev1.ConditionUnknown, Reason: "Other"},
		corev1.NodeCondition{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionFalse})
	if !markUnknown(n, now) {
		t.Fatal("markUnknown reported no change")
	}
	for _, c := range n.Status.Conditions {
		switch c.Type {
		case corev1.NodeReady, corev1.NodeMemoryPressure:
			if c.Status != corev1.ConditionUnknown || c.Reason != "NodeStatusUnknown" ||
				c.Message != "Kubelet stopped posting node status." || !c.LastTransitionTime.Equal(&now) {
				t.Errorf("%s = %+v, want Unknown/NodeStatusUnknown at now", c.Type, c)
			}
			if !c.LastHeartbeatTime.Time.Equal(t0) {
				t.Errorf("%s heartbeat moved to %v", c.Type, c.LastHeartbeatTime)
			}
		case corev1.NodeDiskPressure:
			if c.Reason != "Other" {
				t.Errorf("an Unknown condition was rewritten: %+v", c)
			}
		case corev1.NodePIDPressure:
			if c.Status != corev1.ConditionUnknown || c.Reason != "NodeStatusNeverUpdated" || c.Message != "Kubelet never posted node status." {
				t.Errorf("missing PIDPressure added as %+v", c)
			}
		case corev1.NodeNetworkUnavailable:
			if c.Status != corev1.ConditionFalse {
				t.Errorf("NetworkUnavailable changed: %+v", c)
			}
		}
	}
	if condition(n, corev1.NodePIDPressure) == nil {
		t.Error("PIDPressure not added")
	}
	if markUnknown(n, now) {
		t.Error("second markUnknown reported a change")
	}
}
