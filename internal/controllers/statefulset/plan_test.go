package statefulset

import (
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestDecide(t *testing.T) {
	s3 := testSet(3)
	s1 := testSet(1)
	p3 := testSet(3, parallel)
	p1 := testSet(1, parallel)
	part1 := testSet(3, partition(1))
	od := testSet(3, onDelete)
	from5 := testSet(2, func(s *appsv1.StatefulSet) { s.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: 5} })
	cases := []struct {
		name   string
		snap   *snapshot
		want   []string
		revOf0 string // when set, the revision label of the first created pod
	}{
		{"ordered: empty set creates ordinal 0 only", testSnapshot(s3, "rev1"), []string{"create web-0"}, "rev1"},
		{"ordered: creates 1 once 0 is ready", testSnapshot(s3, "rev1", testPod(s3, 0, "rev1", ready)), []string{"create web-1"}, ""},
		{"ordered: waits while 0 is not ready", testSnapshot(s3, "rev1", testPod(s3, 0, "rev1", notReady)), nil, ""},
		{"ordered: waits while 0 is pending", withClaims(testSnapshot(s3, "rev1", testPod(s3, 0, "rev1", pending))), nil, ""},
		{"ordered: a gap below is filled first", testSnapshot(s3, "rev1", testPod(s3, 1, "rev1", ready)), []string{"create web-0"}, ""},
		{"parallel: creates all at once", testSnapshot(p3, "rev1"), []string{"create web-0", "create web-1", "create web-2"}, ""},
		{"parallel: creates even when others are not ready",
			testSnapshot(p3, "rev1", testPod(p3, 0, "rev1", notReady)), []string{"create web-1", "create web-2"}, ""},
		{"ordered: scale down deletes the highest ordinal only",
			testSnapshot(s1, "rev1", testPod(s1, 0, "rev1", ready), testPod(s1, 1, "rev1", ready), testPod(s1, 2, "rev1", ready)),
			[]string{"delete web-2"}, ""},
		{"ordered: scale down waits for the terminating pod",
			testSnapshot(s1, "rev1", testPod(s1, 0, "rev1", ready), testPod(s1, 1, "rev1", ready), testPod(s1, 2, "rev1", gone)),
			nil, ""},
		{"ordered: scale down continues once it is gone",
			testSnapshot(s1, "rev1", testPod(s1, 0, "rev1", ready), testPod(s1, 1, "rev1", ready)), []string{"delete web-1"}, ""},
		{"ordered: scale down waits for unready replicas",
			testSnapshot(s1, "rev1", testPod(s1, 0, "rev1", notReady), testPod(s1, 1, "rev1", ready)), nil, ""},
		{"ordered: an unhealthy condemned pod that is first unhealthy goes",
			testSnapshot(s1, "rev1", testPod(s1, 0, "rev1", ready), testPod(s1, 1, "rev1", ready), testPod(s1, 2, "rev1", notReady)),
			[]string{"delete web-2"}, ""},
		{"ordered: an unhealthy condemned pod above another unhealthy one blocks",
			testSnapshot(s1, "rev1", testPod(s1, 0, "rev1", ready), testPod(s1, 1, "rev1", notReady), testPod(s1, 2, "rev1", notReady)),
			nil, ""},
		{"parallel: scale down deletes all excess pods",
			testSnapshot(p1, "rev1", testPod(p1, 0, "rev1", ready), testPod(p1, 1, "rev1", ready), testPod(p1, 2, "rev1", notReady)),
			[]string{"delete web-2", "delete web-1"}, ""},
		{"failed pod is deleted for recreation",
			testSnapshot(s3, "rev1", testPod(s3, 0, "rev1", failed)), []string{"delete web-0"}, ""},
		{"failed pod being deleted waits",
			testSnapshot(s3, "rev1", func() *corev1.Pod {
				p := testPod(s3, 0, "rev1", failed)
				p.DeletionTimestamp = ptr.To(metav1.NewTime(testNow))
				return p
			}()), nil, ""},
		{"rolling update: highest ordinal first",
			testSnapshot(s3, "rev2", testPod(s3, 0, "rev1", ready), testPod(s3, 1, "rev1", ready), testPod(s3, 2, "rev1", ready)),
			[]string{"delete web-2"}, ""},
		{"rolling update: next one after the updated pod is ready",
			testSnapshot(s3, "rev2", testPod(s3, 0, "rev1", ready), testPod(s3, 1, "rev1", ready), testPod(s3, 2, "rev2", ready)),
			[]string{"delete web-1"}, ""},
		{"rolling update: waits for the updated pod to be ready",
			testSnapshot(s3, "rev2", testPod(s3, 0, "rev1", ready), testPod(s3, 1, "rev1", ready), testPod(s3, 2, "rev2", notReady)),
			nil, ""},
		{"rolling update: recreates the deleted pod at the update revision",
			testSnapshot(s3, "rev2", testPod(s3, 0, "rev1", ready), testPod(s3, 1, "rev1", ready)),
			[]string{"create web-2"}, ""},
		{"rolling update: partition 1 keeps ordinal 0",
			testSnapshot(part1, "rev2", testPod(part1, 0, "rev1", ready), testPod(part1, 1, "rev2", ready), testPod(part1, 2, "rev2", ready)),
			nil, ""},
		{"rolling update: partition 1 updates ordinal 1",
			testSnapshot(part1, "rev2", testPod(part1, 0, "rev1", ready), testPod(part1, 1, "rev1", ready), testPod(part1, 2, "rev2", ready)),
			[]string{"delete web-1"}, ""},
		{"rolling update: below the partition a missing pod gets the current revision",
			testSnapshot(part1, "rev2", testPod(part1, 1, "rev2", ready), testPod(part1, 2, "rev2", ready)),
			[]string{"create web-0"}, "rev1"},
		{"on delete: old pods stay",
			testSnapshot(od, "rev2", testPod(od, 0, "rev1", ready), testPod(od, 1, "rev1", ready), testPod(od, 2, "rev1", ready)),
			nil, ""},
		{"on delete: a deleted pod comes back at the update revision",
			testSnapshot(od, "rev2", testPod(od, 1, "rev1", ready), testPod(od, 2, "rev1", ready)),
			[]string{"create web-0"}, "rev2"},
		{"start ordinal: first pod is web-5 and web-3 is condemned",
			testSnapshot(from5, "rev1", testPod(from5, 3, "rev1", ready)), []string{"create web-5"}, ""},
		{"start ordinal: pods below the start are scaled down",
			testSnapshot(from5, "rev1", testPod(from5, 3, "rev1", ready), testPod(from5, 5, "rev1", ready), testPod(from5, 6, "rev1", ready)),
			[]string{"delete web-3"}, ""},
		{"pending pod gets its missing claims",
			testSnapshot(s3, "rev1", testPod(s3, 0, "rev1", pending)), []string{"create claims web-0"}, ""},
		{"relabels a pod that lost its identity label",
			testSnapshot(s3, "rev1", func() *corev1.Pod {
				p := testPod(s3, 0, "rev1", ready)
				delete(p.Labels, appsv1.StatefulSetPodNameLabel)
				return p
			}(), testPod(s3, 1, "rev1", ready), testPod(s3, 2, "rev1", ready)), []string{"relabel web-0"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pl := decide(tc.snap)
			if got := stepsOf(pl); !slices.Equal(got, tc.want) {
				t.Fatalf("steps = %q, want %q", got, tc.want)
			}
			if tc.revOf0 != "" {
				if got := revisionOf(pl.steps[0].pod); got != tc.revOf0 {
					t.Errorf("new pod revision = %q, want %q", got, tc.revOf0)
				}
			}
		})
	}
}

func TestDecideDeletingSetOnlyReports(t *testing.T) {
	set := testSet(3)
	set.DeletionTimestamp = ptr.To(metav1.NewTime(testNow))
	pl := decide(testSnapshot(set, "rev1", testPod(set, 0, "rev1", ready)))
	if len(pl.steps) != 0 {
		t.Fatalf("steps = %q, want none", stepsOf(pl))
	}
	if pl.status.Replicas != 1 || pl.status.ReadyReplicas != 1 {
		t.Errorf("status = %+v", pl.status)
	}
}

func TestDecideStaleClaimHoldsCreation(t *testing.T) {
	set := testSet(1, func(s *appsv1.StatefulSet) {
		s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
			WhenDeleted: retain, WhenScaled: del}
	})
	s := testSnapshot(set, "rev1")
	s.claims["data-web-0"] = &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data-web-0", Namespace: "ns",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: "web-0", UID: "old-pod", Controller: ptr.To(true)}}}}
	pl := decide(s)
	if len(pl.steps) != 0 || !pl.staleClaim {
		t.Fatalf("steps = %q staleClaim = %v, want no steps and a stale claim", stepsOf(pl), pl.staleClaim)
	}
	s.claims["data-web-0"].OwnerReferences = nil
	if pl := decide(s); !slices.Equal(stepsOf(pl), []string{"create web-0"}) {
		t.Fatalf("without the stale owner: steps = %q", stepsOf(pl))
	}
}

func TestDecideScaledDownClaimsGetPodOwner(t *testing.T) {
	set := testSet(1, func(s *appsv1.StatefulSet) {
		s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
			WhenDeleted: del, WhenScaled: del}
	})
	p0, p1 := testPod(set, 0, "rev1", ready), testPod(set, 1, "rev1", ready)
	s := testSnapshot(set, "rev1", p0, p1)
	for _, p := range []*corev1.Pod{p0, p1} {
		c := claimsFor(set, p)[0]
		c.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(set, setKind)}
		s.claims[c.Name] = c
	}
	want := []string{"fix claim owners web-1", "delete web-1"}
	if got := stepsOf(decide(s)); !slices.Equal(got, want) {
		t.Fatalf("steps = %q, want %q", got, want)
	}
}

func TestStatus(t *testing.T) {
	set := testSet(4, func(s *appsv1.StatefulSet) { s.Spec.MinReadySeconds = 30 })
	set.Generation = 7
	justReady := testPod(set, 3, "rev2", ready)
	justReady.Status.Conditions[0].LastTransitionTime = metav1.NewTime(testNow.Add(-10 * time.Second))
	s := testSnapshot(set, "rev2",
		testPod(set, 0, "rev1", ready),
		testPod(set, 1, "rev1", gone),
		testPod(set, 2, "rev2", notReady),
		justReady)
	s.collisionCount = 2
	st := decide(s).status
	want := appsv1.StatefulSetStatus{ObservedGeneration: 7, Replicas: 4, ReadyReplicas: 3, AvailableReplicas: 2,
		CurrentReplicas: 1, UpdatedReplicas: 2, CurrentRevision: "rev1", UpdateRevision: "rev2", CollisionCount: ptr.To(int32(2))}
	if st.ObservedGeneration != want.ObservedGeneration || st.Replicas != want.Replicas || st.ReadyReplicas != want.ReadyReplicas ||
		st.AvailableReplicas != want.AvailableReplicas || st.CurrentReplicas != want.CurrentReplicas ||
		st.UpdatedReplicas != want.UpdatedReplicas || st.CurrentRevision != want.CurrentRevision ||
		st.UpdateRevision != want.UpdateRevision || *st.CollisionCount != 2 {
		t.Fatalf("status = %+v\nwant     %+v", st, want)
	}
}

func TestCompleteRollingUpdate(t *testing.T) {
	set := testSet(2)
	st := appsv1.StatefulSetStatus{Replicas: 2, ReadyReplicas: 2, UpdatedReplicas: 2, CurrentReplicas: 0,
		CurrentRevision: "rev1", UpdateRevision: "rev2"}
	completeRollingUpdate(set, &st)
	if st.CurrentRevision != "rev2" || st.CurrentReplicas != 2 {
		t.Fatalf("complete: %+v", st)
	}
	st = appsv1.StatefulSetStatus{Replicas: 2, ReadyReplicas: 2, UpdatedReplicas: 1, CurrentReplicas: 1,
		CurrentRevision: "rev1", UpdateRevision: "rev2"}
	completeRollingUpdate(set, &st)
	if st.CurrentRevision != "rev1" || st.CurrentReplicas != 1 {
		t.Fatalf("partial update was completed: %+v", st)
	}
	od := testSet(2, onDelete)
	st = appsv1.StatefulSetStatus{Replicas: 2, ReadyReplicas: 2, UpdatedReplicas: 2, CurrentRevision: "rev1", UpdateRevision: "rev2"}
	completeRollingUpdate(od, &st)
	if st.CurrentRevision != "rev1" {
		t.Fatalf("OnDelete set was completed: %+v", st)
	}
}
