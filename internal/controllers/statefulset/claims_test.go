package statefulset

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestClaimOwners(t *testing.T) {
	cases := []struct {
		scaled, deleted  appsv1.PersistentVolumeClaimRetentionPolicyType
		ordinal          int // the set has 2 replicas: ordinal 2 is scaled down
		wantSet, wantPod bool
	}{
		{retain, retain, 0, false, false},
		{retain, retain, 2, false, false},
		{retain, del, 0, true, false},
		{retain, del, 2, true, false},
		{del, retain, 0, false, false},
		{del, retain, 2, false, true},
		{del, del, 0, true, false},
		{del, del, 2, false, true},
	}
	for _, tc := range cases {
		set := testSet(2, func(s *appsv1.StatefulSet) {
			s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
				WhenScaled: tc.scaled, WhenDeleted: tc.deleted}
		})
		pod := testPod(set, tc.ordinal, "r", ready)
		claim := claimsFor(set, pod)[0]
		other := metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "x", UID: "cm"}
		// Start from the opposite of what is wanted.
		claim.OwnerReferences = []metav1.OwnerReference{other}
		if !tc.wantSet {
			claim.OwnerReferences = append(claim.OwnerReferences, *metav1.NewControllerRef(set, setKind))
		}
		if !tc.wantPod {
			claim.OwnerReferences = append(claim.OwnerReferences, *metav1.NewControllerRef(pod, podKind))
		}
		if claimOwnersOK(claim, set, pod) {
			t.Errorf("%s/%s ordinal %d: wrong owners counted as OK", tc.scaled, tc.deleted, tc.ordinal)
		}
		fixClaimOwners(claim, set, pod)
		if !claimOwnersOK(claim, set, pod) {
			t.Errorf("%s/%s ordinal %d: fixed owners not OK: %v", tc.scaled, tc.deleted, tc.ordinal, claim.OwnerReferences)
		}
		if ownedBy(claim, set) != tc.wantSet || ownedBy(claim, pod) != tc.wantPod || claim.OwnerReferences[0] != other {
			t.Errorf("%s/%s ordinal %d: owners %v", tc.scaled, tc.deleted, tc.ordinal, claim.OwnerReferences)
		}
		for _, r := range claim.OwnerReferences[1:] {
			if !ptr.Deref(r.Controller, false) {
				t.Errorf("%s/%s ordinal %d: non-controller ref %v", tc.scaled, tc.deleted, tc.ordinal, r)
			}
		}
	}
}

func TestClaimOwnersLeaveForeignAndStale(t *testing.T) {
	set := testSet(1, func(s *appsv1.StatefulSet) {
		s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
			WhenScaled: del, WhenDeleted: del}
	})
	pod := testPod(set, 0, "r", ready)
	foreign := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data-web-0",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Other", Name: "o", UID: "o", Controller: ptr.To(true)}}}}
	if !claimOwnersOK(foreign, set, pod) {
		t.Error("a claim another controller owns should be left alone")
	}
	stale := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data-web-0",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "web", UID: "old", Controller: ptr.To(true)}}}}
	if !claimOwnersOK(stale, set, pod) || !staleRef(stale, set, setKind) {
		t.Error("a claim of an earlier set of the same name should be left alone")
	}
}
