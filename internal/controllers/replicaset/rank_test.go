package replicaset

import (
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// podBuilder makes test pods: makePod("a").on("n1").running().ready(t)...obj().
type podBuilder struct{ p *corev1.Pod }

func makePod(name string) *podBuilder {
	return &podBuilder{p: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: name, Namespace: "ns", UID: types.UID(name), Labels: map[string]string{"app": "web"},
		CreationTimestamp: metav1.NewTime(now.Add(-time.Hour)),
	}}}
}

func (b *podBuilder) on(node string) *podBuilder { b.p.Spec.NodeName = node; return b }

func (b *podBuilder) phase(ph corev1.PodPhase) *podBuilder { b.p.Status.Phase = ph; return b }

func (b *podBuilder) running() *podBuilder { return b.phase(corev1.PodRunning) }

func (b *podBuilder) ready(since time.Time) *podBuilder {
	b.p.Status.Conditions = append(b.p.Status.Conditions, corev1.PodCondition{
		Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(since)})
	return b
}

func (b *podBuilder) cost(c int) *podBuilder {
	b.p.Annotations = map[string]string{DeletionCostAnnotation: strconv.Itoa(c)}
	return b
}

func (b *podBuilder) restarts(n int32) *podBuilder {
	b.p.Status.ContainerStatuses = append(b.p.Status.ContainerStatuses, corev1.ContainerStatus{Name: "c", RestartCount: n})
	return b
}

func (b *podBuilder) sidecarRestarts(n int32) *podBuilder {
	b.p.Spec.InitContainers = append(b.p.Spec.InitContainers, corev1.Container{Name: "side", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways)})
	b.p.Status.InitContainerStatuses = append(b.p.Status.InitContainerStatuses, corev1.ContainerStatus{Name: "side", RestartCount: n})
	return b
}

func (b *podBuilder) created(t time.Time) *podBuilder {
	b.p.CreationTimestamp = metav1.NewTime(t)
	return b
}

func (b *podBuilder) deleting() *podBuilder {
	b.p.DeletionTimestamp = ptr.To(metav1.NewTime(now))
	return b
}

func (b *podBuilder) owner(uid types.UID) *podBuilder {
	b.p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: uid, Controller: ptr.To(true)}}
	return b
}

func (b *podBuilder) obj() *corev1.Pod { return b.p }

// TestRankOrder checks each rule of the deletion order on a pair that
// differs in that rule only (plus what the rule needs), both ways round.
func TestRankOrder(t *testing.T) {
	tests := []struct {
		name         string
		first, later *corev1.Pod
		crowd        [2]int
	}{
		{"unassigned before assigned",
			makePod("a").running().obj(), makePod("b").on("n1").running().obj(), [2]int{}},
		{"pending before unknown",
			makePod("a").on("n1").phase(corev1.PodPending).obj(), makePod("b").on("n1").phase(corev1.PodUnknown).obj(), [2]int{}},
		{"unknown before running",
			makePod("a").on("n1").phase(corev1.PodUnknown).obj(), makePod("b").on("n1").running().obj(), [2]int{}},
		{"not ready before ready",
			makePod("a").on("n1").running().obj(), makePod("b").on("n1").running().ready(now.Add(-time.Minute)).obj(), [2]int{}},
		{"lower deletion cost first, beats readiness time",
			makePod("a").on("n1").running().ready(now.Add(-time.Hour)).cost(-5).obj(),
			makePod("b").on("n1").running().ready(now.Add(-time.Second)).obj(), [2]int{}},
		{"crowded node first",
			makePod("a").on("n1").running().ready(now.Add(-time.Hour)).obj(),
			makePod("b").on("n2").running().ready(now.Add(-time.Second)).obj(), [2]int{3, 1}},
		{"ready more recently first",
			makePod("a").on("n1").running().ready(now.Add(-time.Minute)).obj(),
			makePod("b").on("n1").running().ready(now.Add(-time.Hour)).obj(), [2]int{}},
		{"more restarts first",
			makePod("a").on("n1").running().restarts(4).created(now.Add(-time.Hour)).obj(),
			makePod("b").on("n1").running().restarts(1).created(now.Add(-time.Second)).obj(), [2]int{}},
		{"more sidecar restarts first when regular ones tie",
			makePod("a").on("n1").running().restarts(1).sidecarRestarts(3).obj(),
			makePod("b").on("n1").running().restarts(1).sidecarRestarts(0).obj(), [2]int{}},
		{"newer first",
			makePod("a").on("n1").running().created(now.Add(-time.Minute)).obj(),
			makePod("b").on("n1").running().created(now.Add(-time.Hour)).obj(), [2]int{}},
		{"no creation time first",
			makePod("a").on("n1").running().created(time.Time{}).obj(),
			makePod("b").on("n1").running().obj(), [2]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ranked{pods: []*corev1.Pod{tt.first, tt.later}, crowd: tt.crowd[:], now: now}
			if !r.Less(0, 1) {
				t.Errorf("%s should go before %s", tt.first.Name, tt.later.Name)
			}
			r = ranked{pods: []*corev1.Pod{tt.later, tt.first}, crowd: []int{tt.crowd[1], tt.crowd[0]}, now: now}
			if r.Less(0, 1) {
				t.Errorf("%s should not go before %s", tt.later.Name, tt.first.Name)
			}
		})
	}
}

// TestRankAgeBuckets: ages in the same power-of-two bucket tie and fall to
// the UID; without a reference time the exact times decide.
func TestRankAgeBuckets(t *testing.T) {
	// 40 and 50 minutes are both in [2^41, 2^42) ns.
	a := makePod("z").on("n1").running().created(now.Add(-40 * time.Minute)).obj()
	b := makePod("a").on("n1").running().created(now.Add(-50 * time.Minute)).obj()
	if ageBucket(a.CreationTimestamp.Time, now) != ageBucket(b.CreationTimestamp.Time, now) {
		t.Fatal("test pods should share an age bucket")
	}
	r := ranked{pods: []*corev1.Pod{a, b}, crowd: make([]int, 2), now: now}
	if r.Less(0, 1) || !r.Less(1, 0) {
		t.Error("in one bucket the lower UID should go first")
	}
	r.now = time.Time{}
	if !r.Less(0, 1) || r.Less(1, 0) {
		t.Error("without a reference time the newer pod should go first")
	}
}

func TestVictims(t *testing.T) {
	active := []*corev1.Pod{
		makePod("old-ready").on("n1").running().ready(now.Add(-10 * time.Hour)).created(now.Add(-11 * time.Hour)).obj(),
		makePod("pending").on("n2").phase(corev1.PodPending).obj(),
		makePod("unscheduled").phase(corev1.PodPending).obj(),
		makePod("new-ready").on("n2").running().ready(now.Add(-time.Minute)).obj(),
		makePod("not-ready").on("n1").running().obj(),
		makePod("cheap").on("n1").running().ready(now.Add(-10 * time.Hour)).cost(-100).obj(),
	}
	got := names(victims(active, nil, 5, now))
	want := []string{"unscheduled", "pending", "not-ready", "cheap", "new-ready"}
	if !slices.Equal(got, want) {
		t.Errorf("victims = %v, want %v", got, want)
	}
	if len(active) != 6 || active[0].Name != "old-ready" {
		t.Error("victims must not reorder its input")
	}
	if got := victims(active, nil, 10, now); len(got) != len(active) {
		t.Errorf("asking for more than there are should give all %d, got %d", len(active), len(got))
	}
}

// TestVictimsCrowdedNode: with equal pods, the one on the node holding
// more of the workload (counting a sibling ReplicaSet's pods) goes first.
func TestVictimsCrowdedNode(t *testing.T) {
	readyAt := now.Add(-time.Hour)
	mine := []*corev1.Pod{
		makePod("m1").on("n1").running().ready(readyAt).obj(),
		makePod("m2").on("n2").running().ready(readyAt).obj(),
	}
	sibling := []*corev1.Pod{
		makePod("s1").on("n2").running().ready(readyAt).obj(),
		makePod("s2").on("n2").running().ready(readyAt).obj(),
		makePod("s3").on("n1").running().ready(readyAt).deleting().obj(), // not active: not counted
		makePod("s4").on("n1").phase(corev1.PodSucceeded).obj(),          // not active: not counted
	}
	related := append(slices.Clone(mine), sibling...)
	if got := names(victims(mine, related, 1, now)); !slices.Equal(got, []string{"m2"}) {
		t.Errorf("victims = %v, want [m2] (n2 holds 3 active pods of the workload, n1 one)", got)
	}
}

func TestDeletionCost(t *testing.T) {
	for v, want := range map[string]int32{"5": 5, "-7": -7, "abc": 0, "99999999999": 0, "": 0} {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{DeletionCostAnnotation: v}}}
		if got := deletionCost(p); got != want {
			t.Errorf("deletionCost(%q) = %d, want %d", v, got, want)
		}
	}
}

func names(pods []*corev1.Pod) []string {
	out := make([]string, len(pods))
	for i, p := range pods {
		out[i] = p.Name
	}
	return out
}

var _ sort.Interface = ranked{}
