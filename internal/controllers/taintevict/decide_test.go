package taintevict

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestDecide(t *testing.T) {
	unreachable := corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}
	notReady := corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}
	tol := func(key string, seconds *int64) corev1.Toleration {
		return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: seconds}
	}
	for _, tc := range []struct {
		name   string
		taints []corev1.Taint
		tols   []corev1.Toleration
		evict  bool
		after  time.Duration
	}{
		{"no taints", nil, nil, false, 0},
		{"not tolerated", []corev1.Taint{unreachable}, nil, true, 0},
		{"one of two not tolerated", []corev1.Taint{unreachable, notReady},
			[]corev1.Toleration{tol(corev1.TaintNodeUnreachable, nil)}, true, 0},
		{"tolerated forever", []corev1.Taint{unreachable}, []corev1.Toleration{tol(corev1.TaintNodeUnreachable, nil)}, false, 0},
		{"tolerated for a while", []corev1.Taint{unreachable}, []corev1.Toleration{tol(corev1.TaintNodeUnreachable, ptr.To[int64](2))}, true, 2 * time.Second},
		{"zero seconds is at once", []corev1.Taint{unreachable}, []corev1.Toleration{tol(corev1.TaintNodeUnreachable, ptr.To[int64](0))}, true, 0},
		{"negative seconds is at once", []corev1.Taint{unreachable}, []corev1.Toleration{tol(corev1.TaintNodeUnreachable, ptr.To[int64](-5))}, true, 0},
		{"shortest of the used tolerations", []corev1.Taint{unreachable, notReady},
			[]corev1.Toleration{tol(corev1.TaintNodeUnreachable, ptr.To[int64](30)), tol(corev1.TaintNodeNotReady, ptr.To[int64](10))}, true, 10 * time.Second},
		{"forever and limited: the limit counts", []corev1.Taint{unreachable, notReady},
			[]corev1.Toleration{tol(corev1.TaintNodeUnreachable, nil), tol(corev1.TaintNodeNotReady, ptr.To[int64](10))}, true, 10 * time.Second},
		{"first matching toleration is used", []corev1.Taint{unreachable},
			[]corev1.Toleration{tol(corev1.TaintNodeUnreachable, ptr.To[int64](2)), tol(corev1.TaintNodeUnreachable, ptr.To[int64](300))}, true, 2 * time.Second},
		{"unused toleration does not count", []corev1.Taint{unreachable},
			[]corev1.Toleration{tol(corev1.TaintNodeUnreachable, nil), tol(corev1.TaintNodeNotReady, ptr.To[int64](1))}, false, 0},
		{"wildcard toleration", []corev1.Taint{unreachable, notReady}, []corev1.Toleration{{Operator: corev1.TolerationOpExists}}, false, 0},
		{"NoSchedule toleration does not help", []corev1.Taint{unreachable},
			[]corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}, true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evict, after := decide(tc.taints, tc.tols)
			if evict != tc.evict || after != tc.after {
				t.Errorf("decide = %v, %v; want %v, %v", evict, after, tc.evict, tc.after)
			}
		})
	}
}

func TestNoExecute(t *testing.T) {
	node := &corev1.Node{Spec: corev1.NodeSpec{Taints: []corev1.Taint{
		{Key: "a", Effect: corev1.TaintEffectNoSchedule}, {Key: "b", Effect: corev1.TaintEffectNoExecute},
		{Key: "c", Effect: corev1.TaintEffectPreferNoSchedule}}}}
	got := noExecute(node)
	if len(got) != 1 || got[0].Key != "b" {
		t.Errorf("noExecute = %v, want only b", got)
	}
	if noExecute(nil) != nil {
		t.Error("a missing node has taints")
	}
}

func TestDisrupt(t *testing.T) {
	now := metav1.Now()
	pod := &corev1.Pod{}
	if !disrupt(pod, now) {
		t.Fatal("first disrupt reported no change")
	}
	c := pod.Status.Conditions[0]
	if c.Type != corev1.DisruptionTarget || c.Status != corev1.ConditionTrue || c.Reason != "DeletionByTaintManager" ||
		c.Message != "Taint manager: deleting due to NoExecute taint" {
		t.Errorf("condition = %+v", c)
	}
	if disrupt(pod, now) || len(pod.Status.Conditions) != 1 {
		t.Error("second disrupt changed the pod")
	}
}
