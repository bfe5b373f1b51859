package disruption

import (
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// testPod builds pods for the tables.
type testPod struct{ p *corev1.Pod }

func makePod(name string) testPod {
	return testPod{&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}}
}

func (b testPod) ready() testPod {
	b.p.Status.Conditions = append(b.p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue})
	return b
}

func (b testPod) deleting() testPod {
	now := metav1.Now()
	b.p.DeletionTimestamp = &now
	return b
}

func (b testPod) ownedBy(kind, name string, uid types.UID) testPod {
	yes := true
	b.p.OwnerReferences = append(b.p.OwnerReferences, metav1.OwnerReference{APIVersion: "apps/v1", Kind: kind, Name: name, UID: uid, Controller: &yes})
	return b
}

func (b testPod) obj() *corev1.Pod { return b.p }

func intOrStr(s string) *intstr.IntOrString {
	v := intstr.Parse(s)
	return &v
}

func TestExpectedAndDesired(t *testing.T) {
	tests := []struct {
		name                   string
		minAvailable, maxUnav  string
		pods, scale            int32
		wantExpected, wantDesi int32
		wantScaleAsked         bool
	}{
		{name: "int minAvailable counts pods", minAvailable: "2", pods: 3, scale: 10, wantExpected: 3, wantDesi: 2},
		{name: "int minAvailable above pods", minAvailable: "5", pods: 3, scale: 10, wantExpected: 3, wantDesi: 5},
		{name: "percent minAvailable rounds up", minAvailable: "50%", pods: 3, scale: 5, wantExpected: 5, wantDesi: 3, wantScaleAsked: true},
		{name: "percent minAvailable 100", minAvailable: "100%", pods: 1, scale: 4, wantExpected: 4, wantDesi: 4, wantScaleAsked: true},
		{name: "int maxUnavailable", maxUnav: "1", pods: 2, scale: 3, wantExpected: 3, wantDesi: 2, wantScaleAsked: true},
		{name: "int maxUnavailable above scale", maxUnav: "5", pods: 2, scale: 3, wantExpected: 3, wantDesi: 0, wantScaleAsked: true},
		{name: "percent maxUnavailable rounds up", maxUnav: "30%", pods: 10, scale: 10, wantExpected: 10, wantDesi: 7, wantScaleAsked: true},
		{name: "percent maxUnavailable rounds up small", maxUnav: "10%", pods: 3, scale: 3, wantExpected: 3, wantDesi: 2, wantScaleAsked: true},
		{name: "neither set", pods: 3, scale: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var spec policyv1.PodDisruptionBudgetSpec
			if tc.minAvailable != "" {
				spec.MinAvailable = intOrStr(tc.minAvailable)
			}
			if tc.maxUnav != "" {
				spec.MaxUnavailable = intOrStr(tc.maxUnav)
			}
			asked := false
			exp, des, err := expectedAndDesired(spec, tc.pods, func() (int32, error) { asked = true; return tc.scale, nil })
			if err != nil {
				t.Fatal(err)
			}
			if exp != tc.wantExpected || des != tc.wantDesi || asked != tc.wantScaleAsked {
				t.Errorf("got expected=%d desired=%d scaleAsked=%v, want %d %d %v", exp, des, asked, tc.wantExpected, tc.wantDesi, tc.wantScaleAsked)
			}
		})
	}
}

func TestExpectedAndDesiredScaleError(t *testing.T) {
	spec := policyv1.PodDisruptionBudgetSpec{MaxUnavailable: intOrStr("1")}
	boom := errors.New("boom")
	if _, _, err := expectedAndDesired(spec, 1, func() (int32, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
}

func TestExpectedScale(t *testing.T) {
	scales := map[types.UID]int32{"rs-a": 3, "ss-b": 2}
	find := func(ref *metav1.OwnerReference, _ string) (*controllerScale, error) {
		if n, ok := scales[ref.UID]; ok {
			return &controllerScale{ref.UID, n}, nil
		}
		return nil, nil
	}
	pods := []*corev1.Pod{
		makePod("a1").ownedBy("ReplicaSet", "a", "rs-a").obj(),
		makePod("a2").ownedBy("ReplicaSet", "a", "rs-a").obj(),
		makePod("b1").ownedBy("StatefulSet", "b", "ss-b").obj(),
		makePod("bare").obj(),
	}
	n, unmanaged, err := expectedScale(pods, find)
	if err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("expected scale = %d, want 5 (each controller once)", n)
	}
	if len(unmanaged) != 1 || unmanaged[0] != "bare" {
		t.Errorf("unmanaged = %v, want [bare]", unmanaged)
	}
	pods = append(pods, makePod("lost").ownedBy("ReplicaSet", "gone", "rs-gone").obj())
	if _, _, err := expectedScale(pods, find); err == nil || err.Error() != `found no controllers for pod "lost"` {
		t.Errorf("err = %v, want found no controllers", err)
	}
}

func TestDisruptedPodsAndHealthy(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	pdb := &policyv1.PodDisruptionBudget{Status: policyv1.PodDisruptionBudgetStatus{DisruptedPods: map[string]metav1.Time{
		"recent":   metav1.NewTime(now.Add(-30 * time.Second)),
		"old":      metav1.NewTime(now.Add(-3 * time.Minute)),
		"going":    metav1.NewTime(now.Add(-10 * time.Second)),
		"vanished": metav1.NewTime(now.Add(-10 * time.Second)),
	}}}
	pods := []*corev1.Pod{
		makePod("recent").ready().obj(),
		makePod("old").ready().obj(),
		makePod("going").ready().deleting().obj(),
		makePod("fine").ready().obj(),
		makePod("unready").obj(),
	}
	kept, recheck, overdue := disruptedPods(pdb, pods, now)
	if _, ok := kept["recent"]; len(kept) != 1 || !ok {
		t.Errorf("kept = %v, want only recent", kept)
	}
	if recheck == nil || !recheck.Equal(now.Add(90*time.Second)) {
		t.Errorf("recheck = %v, want %v", recheck, now.Add(90*time.Second))
	}
	if len(overdue) != 1 || overdue[0].Name != "old" {
		t.Errorf("overdue = %v, want [old]", overdue)
	}
	// fine and old are healthy; recent is just evicted; going is being
	// deleted; unready is not ready.
	if got := countHealthy(pods, kept, now); got != 2 {
		t.Errorf("healthy = %d, want 2", got)
	}
}

func TestNextStatus(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Generation: 2}}
	st, changed := nextStatus(pdb, observation{expected: 3, desired: 2, healthy: 3, disrupted: map[string]metav1.Time{}}, now)
	if !changed || st.DisruptionsAllowed != 1 || st.ObservedGeneration != 2 || st.CurrentHealthy != 3 || st.DesiredHealthy != 2 || st.ExpectedPods != 3 {
		t.Fatalf("status = %+v changed=%v", st, changed)
	}
	c := apimeta.FindStatusCondition(st.Conditions, policyv1.DisruptionAllowedCondition)
	if c == nil || c.Status != metav1.ConditionTrue || c.Reason != policyv1.SufficientPodsReason || c.ObservedGeneration != 2 {
		t.Fatalf("condition = %+v", c)
	}
	pdb.Status = st
	if _, changed := nextStatus(pdb, observation{expected: 3, desired: 2, healthy: 3, disrupted: map[string]metav1.Time{}}, now); changed {
		t.Error("same observation changed the status")
	}
	// Too few healthy: no disruptions, the condition turns false.
	st, _ = nextStatus(pdb, observation{expected: 3, desired: 2, healthy: 1, disrupted: map[string]metav1.Time{}}, now.Add(time.Minute))
	c = apimeta.FindStatusCondition(st.Conditions, policyv1.DisruptionAllowedCondition)
	if st.DisruptionsAllowed != 0 || c.Status != metav1.ConditionFalse || c.Reason != policyv1.InsufficientPodsReason || !c.LastTransitionTime.Time.Equal(now.Add(time.Minute)) {
		t.Errorf("status = %+v condition = %+v", st, c)
	}
	// A budget that expects nothing allows nothing, however healthy.
	st, _ = nextStatus(pdb, observation{expected: 0, desired: 0, healthy: 2, disrupted: map[string]metav1.Time{}}, now)
	if st.DisruptionsAllowed != 0 {
		t.Errorf("allowed = %d with no expected pods", st.DisruptionsAllowed)
	}
}

func TestFailedStatus(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	pdb := &policyv1.PodDisruptionBudget{Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 3, ObservedGeneration: 1}}
	st := failedStatus(pdb, errors.New("found no controllers for pod \"x\""), now)
	c := apimeta.FindStatusCondition(st.Conditions, policyv1.DisruptionAllowedCondition)
	if st.DisruptionsAllowed != 0 || c == nil || c.Reason != policyv1.SyncFailedReason || c.Status != metav1.ConditionFalse || c.Message != `found no controllers for pod "x"` {
		t.Errorf("status = %+v condition = %+v", st, c)
	}
	if pdb.Status.DisruptionsAllowed != 3 {
		t.Error("failedStatus changed its input")
	}
}

func TestStaleDisruption(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	withCond := func(b testPod, reason string, at time.Time) *corev1.Pod {
		b.p.Status.Conditions = append(b.p.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget,
			Status: corev1.ConditionTrue, Reason: reason, LastTransitionTime: metav1.NewTime(at)})
		return b.p
	}
	tests := []struct {
		name      string
		pod       *corev1.Pod
		wantStale bool
		wantAfter time.Duration
	}{
		{"no condition", makePod("a").obj(), false, 0},
		{"fresh eviction", withCond(makePod("a"), "EvictionByEvictionAPI", now.Add(-30*time.Second)), true, 90 * time.Second},
		{"old eviction", withCond(makePod("a"), "EvictionByEvictionAPI", now.Add(-5*time.Minute)), true, 0},
		{"being deleted", withCond(makePod("a").deleting(), "EvictionByEvictionAPI", now.Add(-5*time.Minute)), false, 0},
		{"set by kubelet", withCond(makePod("a"), corev1.PodReasonTerminationByKubelet, now.Add(-5*time.Minute)), false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stale, after := staleDisruption(tc.pod, now, 2*time.Minute)
			if stale != tc.wantStale || after != tc.wantAfter {
				t.Errorf("got %v %v, want %v %v", stale, after, tc.wantStale, tc.wantAfter)
			}
		})
	}
}
