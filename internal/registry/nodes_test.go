package registry

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func makeNode(ready corev1.ConditionStatus, unschedulable bool, labels map[string]string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: labels}}
	if ready != "" {
		n.Status.Conditions = []corev1.NodeCondition{
			{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse},
			{Type: corev1.NodeReady, Status: ready},
		}
	}
	n.Spec.Unschedulable = unschedulable
	return n
}

func TestNodeStatusColumn(t *testing.T) {
	tests := []struct {
		node *corev1.Node
		want string
	}{
		{makeNode(corev1.ConditionTrue, false, nil), "Ready"},
		{makeNode(corev1.ConditionFalse, false, nil), "NotReady"},
		{makeNode(corev1.ConditionUnknown, false, nil), "NotReady"},
		{makeNode("", false, nil), "Unknown"},
		{makeNode(corev1.ConditionTrue, true, nil), "Ready,SchedulingDisabled"},
		{makeNode("", true, nil), "Unknown,SchedulingDisabled"},
	}
	for _, tt := range tests {
		if got := nodeStatus(tt.node); got != tt.want {
			t.Errorf("status = %q, want %q", got, tt.want)
		}
	}
}

func TestNodeRow(t *testing.T) {
	n := makeNode(corev1.ConditionTrue, false, map[string]string{
		"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/worker": "", "kubernetes.io/role": "edge"})
	n.Status.NodeInfo.KubeletVersion = "v1.34.4"
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.0.2.10"}}
	row := nodeRow(n)
	want := []interface{}{"n1", "Ready", "control-plane,edge,worker", row[3], "v1.34.4", "192.0.2.10", "<none>", "<unknown>", "<unknown>", "<unknown>"}
	for i := range want {
		if row[i] != want[i] {
			t.Errorf("cell %d = %v, want %v", i, row[i], want[i])
		}
	}
	if nodeRow(makeNode(corev1.ConditionTrue, false, nil))[2] != "<none>" {
		t.Error("a node without roles should show <none>")
	}
}

func TestNodeUpdate(t *testing.T) {
	old := &corev1.Node{Spec: corev1.NodeSpec{PodCIDR: "10.244.1.0/24", PodCIDRs: []string{"10.244.1.0/24"}}}
	n := old.DeepCopy()
	n.Spec.PodCIDR, n.Spec.PodCIDRs = "10.244.2.0/24", []string{"10.244.2.0/24"}
	if got := errorStrings(validateNodeUpdate(n, old)); len(got) != 1 || got[0] != "FieldValueForbidden spec.podCIDRs" {
		t.Errorf("errors = %v", got)
	}
	if errs := validateNodeUpdate(old, &corev1.Node{}); len(errs) != 0 {
		t.Errorf("setting podCIDRs once: %v", errs)
	}
}
