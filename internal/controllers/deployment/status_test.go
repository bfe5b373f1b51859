package deployment

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

func progressingCond(reason string, s corev1.ConditionStatus, at time.Time) appsv1.DeploymentCondition {
	return newCondition(appsv1.DeploymentProgressing, s, reason, "", at)
}

func TestCalculateStatus(t *testing.T) {
	d := makeDeployment("web", 4).obj()
	d.Generation = 3
	d.Status.CollisionCount = ptr.To[int32](1)
	old := makeRS("old", 0, 1).obj()
	old.Status.TerminatingReplicas = ptr.To[int32](2)
	newRS := makeRS("new", 1, 3).available(1).obj()
	st := calculateStatus(d, []*appsv1.ReplicaSet{old, newRS}, newRS, epoch)
	want := appsv1.DeploymentStatus{ObservedGeneration: 3, Replicas: 4, UpdatedReplicas: 3, ReadyReplicas: 2,
		AvailableReplicas: 2, UnavailableReplicas: 2, TerminatingReplicas: ptr.To[int32](2), CollisionCount: ptr.To[int32](1)}
	st.Conditions, want.Conditions = nil, nil
	if !equalStatus(st, want) {
		t.Errorf("got %+v\nwant %+v", st, want)
	}
	// 25% of 4 may be unavailable: 2 available is below 3.
	c := getCondition(calculateStatus(d, []*appsv1.ReplicaSet{old, newRS}, newRS, epoch), appsv1.DeploymentAvailable)
	if c == nil || c.Status != corev1.ConditionFalse || c.Reason != ReasonMinimumUnavailable {
		t.Errorf("Available: got %+v", c)
	}
	newRS.Status.AvailableReplicas, newRS.Status.ReadyReplicas = 2, 2
	c = getCondition(calculateStatus(d, []*appsv1.ReplicaSet{old, newRS}, newRS, epoch), appsv1.DeploymentAvailable)
	if c == nil || c.Status != corev1.ConditionTrue || c.Message != "Deployment has minimum availability." {
		t.Errorf("Available: got %+v", c)
	}
}

func equalStatus(a, b appsv1.DeploymentStatus) bool {
	return a.ObservedGeneration == b.ObservedGeneration && a.Replicas == b.Replicas && a.UpdatedReplicas == b.UpdatedReplicas &&
		a.ReadyReplicas == b.ReadyReplicas && a.AvailableReplicas == b.AvailableReplicas &&
		a.UnavailableReplicas == b.UnavailableReplicas && ptr.Equal(a.TerminatingReplicas, b.TerminatingReplicas) &&
		ptr.Equal(a.CollisionCount, b.CollisionCount)
}

func TestRolloutStatusProgressing(t *testing.T) {
	start := epoch
	newRS := makeRS("web-abc", 1, 3).obj()
	newRS.UID = types.UID("new")
	tests := []struct {
		name       string
		d          *appsv1.Deployment
		all        []*appsv1.ReplicaSet
		now        time.Time
		wantStatus corev1.ConditionStatus
		wantReason string
		wantMsg    string
		wantTrans  time.Time
	}{
		{"complete", makeDeployment("web", 3).status(appsv1.DeploymentStatus{
			Conditions: []appsv1.DeploymentCondition{progressingCond(ReasonRSUpdated, corev1.ConditionTrue, start)}}).obj(),
			[]*appsv1.ReplicaSet{newRS}, start.Add(time.Minute),
			corev1.ConditionTrue, ReasonNewRSAvailable, `ReplicaSet "web-abc" has successfully progressed.`, start},
		{"progress refreshes the condition but keeps its transition", makeDeployment("web", 3).status(appsv1.DeploymentStatus{
			Replicas: 4, UpdatedReplicas: 1,
			Conditions: []appsv1.DeploymentCondition{progressingCond(ReasonNewRSCreated, corev1.ConditionTrue, start)}}).obj(),
			[]*appsv1.ReplicaSet{makeRS("old", 0, 2).obj(), makeRS("web-abc", 1, 2).obj()}, start.Add(time.Minute),
			corev1.ConditionTrue, ReasonRSUpdated, `ReplicaSet "web-abc" is progressing.`, start},
		{"no progress past the deadline", makeDeployment("web", 3).status(appsv1.DeploymentStatus{
			Replicas: 4, UpdatedReplicas: 1, ReadyReplicas: 3, AvailableReplicas: 3,
			Conditions: []appsv1.DeploymentCondition{progressingCond(ReasonRSUpdated, corev1.ConditionTrue, start)}}).obj(),
			[]*appsv1.ReplicaSet{makeRS("old", 0, 3).obj(), makeRS("web-abc", 1, 1).available(0).obj()}, start.Add(11 * time.Minute),
			corev1.ConditionFalse, ReasonTimedOut, `ReplicaSet "web-abc" has timed out progressing.`, start.Add(11 * time.Minute)},
		{"no progress within the deadline", makeDeployment("web", 3).status(appsv1.DeploymentStatus{
			Replicas: 4, UpdatedReplicas: 1, ReadyReplicas: 3, AvailableReplicas: 3,
			Conditions: []appsv1.DeploymentCondition{progressingCond(ReasonRSUpdated, corev1.ConditionTrue, start)}}).obj(),
			[]*appsv1.ReplicaSet{makeRS("old", 0, 3).obj(), makeRS("web-abc", 1, 1).available(0).obj()}, start.Add(9 * time.Minute),
			corev1.ConditionTrue, ReasonRSUpdated, "", start},
	}
	for _, tt := range tests {
		var nrs *appsv1.ReplicaSet
		for _, rs := range tt.all {
			if rs.Name == "web-abc" {
				nrs = rs
			}
		}
		st := rolloutStatus(tt.d, tt.all, nrs, tt.now)
		c := getCondition(st, appsv1.DeploymentProgressing)
		if c == nil || c.Status != tt.wantStatus || c.Reason != tt.wantReason || c.Message != tt.wantMsg ||
			!c.LastTransitionTime.Time.Equal(tt.wantTrans) {
			t.Errorf("%s: got %+v", tt.name, c)
		}
	}
}

func TestRecheckAfter(t *testing.T) {
	d := makeDeployment("web", 3).status(appsv1.DeploymentStatus{
		Conditions: []appsv1.DeploymentCondition{progressingCond(ReasonRSUpdated, corev1.ConditionTrue, epoch)}}).obj()
	d.Spec.ProgressDeadlineSeconds = ptr.To[int32](30)
	st := d.Status
	if got := recheckAfter(d, &st, epoch.Add(10*time.Second)); got != 21*time.Second {
		t.Errorf("got %v, want 21s", got)
	}
	if got := recheckAfter(d, &st, epoch.Add(40*time.Second)); got != time.Second {
		t.Errorf("past the deadline: got %v, want 1s", got)
	}
	st = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3}
	if got := recheckAfter(d, &st, epoch); got != -1 {
		t.Errorf("complete: got %v, want -1", got)
	}
}

func TestPausedCondition(t *testing.T) {
	d := makeDeployment("web", 3).obj()
	d.Spec.Paused = true
	if !pausedCondition(d, epoch) {
		t.Fatal("pausing did not change the condition")
	}
	c := getCondition(d.Status, appsv1.DeploymentProgressing)
	if c.Status != corev1.ConditionUnknown || c.Reason != ReasonPaused || c.Message != "Deployment is paused" {
		t.Errorf("paused: got %+v", c)
	}
	if pausedCondition(d, epoch) {
		t.Errorf("pausing twice changed the condition")
	}
	d.Spec.Paused = false
	if !pausedCondition(d, epoch) || getCondition(d.Status, appsv1.DeploymentProgressing).Reason != ReasonResumed {
		t.Errorf("resume: got %+v", d.Status.Conditions)
	}
	d.Status.Conditions = []appsv1.DeploymentCondition{progressingCond(ReasonTimedOut, corev1.ConditionFalse, epoch)}
	d.Spec.Paused = true
	if pausedCondition(d, epoch) {
		t.Errorf("a timeout was overwritten by pause")
	}
}

func TestHistoryToDelete(t *testing.T) {
	d := makeDeployment("web", 3).obj()
	d.Spec.RevisionHistoryLimit = ptr.To[int32](2)
	deleting := makeRS("r0", 0, 0).revision(0).obj()
	deleting.DeletionTimestamp = &metav1.Time{Time: epoch}
	old := []*appsv1.ReplicaSet{
		makeRS("r4", 4, 0).revision(4).obj(),
		makeRS("r1", 1, 0).revision(1).obj(),
		makeRS("r3", 3, 0).revision(3).obj(),
		makeRS("r2", 2, 0).revision(2).statusReplicas(1).obj(),
		makeRS("r5", 5, 0).revision(5).obj(),
		deleting,
	}
	var names []string
	for _, rs := range historyToDelete(d, old) {
		names = append(names, rs.Name)
	}
	// Five alive, limit two: r1, r2, r3 are past it; r2 still has a pod.
	if len(names) != 2 || names[0] != "r1" || names[1] != "r3" {
		t.Errorf("got %v, want [r1 r3]", names)
	}
	d.Spec.RevisionHistoryLimit = nil
	if len(historyToDelete(d, old)) != 0 {
		t.Errorf("no limit deletes nothing")
	}
}

func TestOldPodsRunning(t *testing.T) {
	newRS := makeRS("new", 1, 3).obj()
	old := makeRS("old", 0, 0).statusReplicas(0).obj()
	pod := func(phase corev1.PodPhase) *corev1.Pod { return &corev1.Pod{Status: corev1.PodStatus{Phase: phase}} }
	tests := []struct {
		name string
		pods map[types.UID][]*corev1.Pod
		want bool
	}{
		{"none", map[types.UID][]*corev1.Pod{old.UID: nil, newRS.UID: {pod(corev1.PodRunning)}}, false},
		{"running old pod", map[types.UID][]*corev1.Pod{old.UID: {pod(corev1.PodRunning)}}, true},
		{"pending old pod", map[types.UID][]*corev1.Pod{old.UID: {pod(corev1.PodPending)}}, true},
		{"finished old pods", map[types.UID][]*corev1.Pod{old.UID: {pod(corev1.PodSucceeded), pod(corev1.PodFailed)}}, false},
	}
	for _, tt := range tests {
		if got := oldPodsRunning(newRS, []*appsv1.ReplicaSet{old}, tt.pods); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	if !oldPodsRunning(newRS, []*appsv1.ReplicaSet{makeRS("o", 0, 0).statusReplicas(1).obj()}, nil) {
		t.Errorf("an old replica set reporting pods has pods running")
	}
}
