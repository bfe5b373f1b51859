package replicaset

import (
	"errors"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"
)

func testRS(replicas int32, minReady int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "rs", Namespace: "ns", UID: "rs-uid", Generation: 4},
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        ptr.To(replicas),
			MinReadySeconds: minReady,
			Selector:        &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{
				Labels: map[string]string{"app": "web", "tier": "fe"}}},
		},
	}
}

func TestComputeStatusCounts(t *testing.T) {
	rs := testRS(3, 10)
	full := func(b *podBuilder) *podBuilder { b.p.Labels["tier"] = "fe"; return b }
	active := []*corev1.Pod{
		full(makePod("available")).on("n1").running().ready(now.Add(-time.Minute)).obj(),
		full(makePod("ready-only")).on("n1").running().ready(now.Add(-5 * time.Second)).obj(),
		makePod("partly-labeled").on("n1").running().obj(),
	}
	terminating := []*corev1.Pod{makePod("t1").deleting().obj(), makePod("t2").deleting().obj()}
	st := computeStatus(rs, active, terminating, nil, now)
	want := appsv1.ReplicaSetStatus{Replicas: 3, FullyLabeledReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 1,
		TerminatingReplicas: ptr.To[int32](2)}
	if st.Replicas != want.Replicas || st.FullyLabeledReplicas != want.FullyLabeledReplicas ||
		st.ReadyReplicas != want.ReadyReplicas || st.AvailableReplicas != want.AvailableReplicas ||
		!ptr.Equal(st.TerminatingReplicas, want.TerminatingReplicas) || st.Conditions != nil {
		t.Errorf("status = %+v, want %+v", st, want)
	}
	// Once minReadySeconds have passed since it became ready, the
	// second pod is available too.
	if st := computeStatus(rs, active, nil, nil, now.Add(6*time.Second)); st.AvailableReplicas != 2 {
		t.Errorf("available after minReadySeconds = %d, want 2", st.AvailableReplicas)
	}
	if st := computeStatus(rs, nil, nil, nil, now); st.TerminatingReplicas == nil || *st.TerminatingReplicas != 0 {
		t.Errorf("terminatingReplicas should be 0, not unset, got %v", st.TerminatingReplicas)
	}
}

func TestComputeStatusReplicaFailure(t *testing.T) {
	rs := testRS(3, 0)
	one := []*corev1.Pod{makePod("a").obj()}
	st := computeStatus(rs, one, nil, errors.New("pods \"x\" is forbidden: exceeded quota"), now)
	if len(st.Conditions) != 1 {
		t.Fatalf("conditions = %+v, want one ReplicaFailure", st.Conditions)
	}
	c := st.Conditions[0]
	if c.Type != appsv1.ReplicaSetReplicaFailure || c.Status != corev1.ConditionTrue || c.Reason != ReasonFailedCreate ||
		c.Message != `pods "x" is forbidden: exceeded quota` || !c.LastTransitionTime.Time.Equal(now) {
		t.Errorf("condition = %+v", c)
	}

	// A later failure keeps the condition as it is (first failure wins).
	rs.Status = st
	again := computeStatus(rs, one, nil, errors.New("other"), now.Add(time.Minute))
	if !slices.EqualFunc(again.Conditions, st.Conditions, func(a, b appsv1.ReplicaSetCondition) bool { return a == b }) {
		t.Errorf("condition changed on a repeated failure: %+v", again.Conditions)
	}

	// Success removes it.
	if ok := computeStatus(rs, one, nil, nil, now); len(ok.Conditions) != 0 {
		t.Errorf("conditions after success = %+v, want none", ok.Conditions)
	}
	if len(rs.Status.Conditions) != 1 {
		t.Error("computeStatus must not modify the ReplicaSet it is given")
	}

	// Too many pods and a failure: FailedDelete.
	rs = testRS(0, 0)
	st = computeStatus(rs, one, nil, errors.New("nope"), now)
	if len(st.Conditions) != 1 || st.Conditions[0].Reason != ReasonFailedDelete {
		t.Errorf("conditions = %+v, want FailedDelete", st.Conditions)
	}
}

func TestStatusCurrent(t *testing.T) {
	rs := testRS(1, 0)
	st := computeStatus(rs, []*corev1.Pod{makePod("a").obj()}, nil, nil, now)
	if statusCurrent(rs, st) {
		t.Error("a changed count should need a write")
	}
	rs.Status = st
	rs.Status.ObservedGeneration = rs.Generation
	if !statusCurrent(rs, st) {
		t.Error("identical status for the current generation should need no write")
	}
	rs.Generation++
	if statusCurrent(rs, st) {
		t.Error("a new generation should need a write of observedGeneration")
	}
}

func TestActiveAndTerminating(t *testing.T) {
	rs := testRS(1, 0)
	sel := labels.SelectorFromSet(labels.Set{"app": "web"})
	pods := []*corev1.Pod{
		makePod("running").running().owner(rs.UID).obj(),
		makePod("succeeded").phase(corev1.PodSucceeded).owner(rs.UID).obj(),
		makePod("failed").phase(corev1.PodFailed).owner(rs.UID).obj(),
		makePod("going").running().deleting().owner(rs.UID).obj(),
		makePod("going-failed").phase(corev1.PodFailed).deleting().owner(rs.UID).obj(),
		makePod("going-other-owner").running().deleting().owner("other").obj(),
		makePod("going-orphan").running().deleting().obj(),
	}
	if got := names(activePods(pods)); !slices.Equal(got, []string{"running"}) {
		t.Errorf("active = %v, want [running]", got)
	}
	if got := names(terminatingPods(rs, sel, pods)); !slices.Equal(got, []string{"going"}) {
		t.Errorf("terminating = %v, want [going]", got)
	}
	other := labels.SelectorFromSet(labels.Set{"app": "db"})
	if got := terminatingPods(rs, other, pods); len(got) != 0 {
		t.Errorf("terminating with a non-matching selector = %v, want none", names(got))
	}
}
