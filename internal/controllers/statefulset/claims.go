package statefulset

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
)

// The PVC retention policy is carried out through ownerReferences: the
// garbage collector deletes a claim once its owner is gone. With
// whenDeleted=Delete the set controls the claims of its in-range pods;
// with whenScaled=Delete a pod beyond the replica count controls its
// claims, so they go with it. Retain means neither owns the claim.

const (
	retain = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	del    = appsv1.DeletePersistentVolumeClaimRetentionPolicyType
)

func retentionOf(set *appsv1.StatefulSet) appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy {
	p := appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenDeleted: retain, WhenScaled: retain}
	if r := set.Spec.PersistentVolumeClaimRetentionPolicy; r != nil {
		if r.WhenDeleted == del {
			p.WhenDeleted = del
		}
		if r.WhenScaled == del {
			p.WhenScaled = del
		}
	}
	return p
}

// refersTo reports whether ref names obj (kind and name, any UID).
func refersTo(ref *metav1.OwnerReference, obj metav1.Object, gvk schema.GroupVersionKind) bool {
	return ref.APIVersion == gvk.GroupVersion().String() && ref.Kind == gvk.Kind && ref.Name == obj.GetName()
}

// staleRef reports whether the claim refers to obj by name but to another
// UID: it belongs to an earlier object of the same name (for a pod not yet
// created, any reference to its name), and the garbage collector will
// delete it.
func staleRef(claim *corev1.PersistentVolumeClaim, obj metav1.Object, gvk schema.GroupVersionKind) bool {
	for i := range claim.OwnerReferences {
		if refersTo(&claim.OwnerReferences[i], obj, gvk) {
			return claim.OwnerReferences[i].UID != obj.GetUID()
		}
	}
	return false
}

func ownedBy(claim *corev1.PersistentVolumeClaim, owner metav1.Object) bool {
	for _, r := range claim.OwnerReferences {
		if r.UID == owner.GetUID() {
			return true
		}
	}
	return false
}

// foreignController reports whether, under a deleting policy, something
// other than this set and pod controls the claim (or a reference to their
// names carries another UID); such claims are left to their owner.
func foreignController(claim *corev1.PersistentVolumeClaim, set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	p := retentionOf(set)
	if p.WhenDeleted == retain && p.WhenScaled == retain {
		return false
	}
	for i := range claim.OwnerReferences {
		r := &claim.OwnerReferences[i]
		switch {
		case refersTo(r, set, setKind):
			if r.UID != set.UID {
				return true
			}
		case refersTo(r, pod, podKind):
			if r.UID != pod.UID {
				return true
			}
		case ptr.Deref(r.Controller, false):
			return true
		}
	}
	return false
}

// wantOwners says which of set and pod should control the claim.
func wantOwners(set *appsv1.StatefulSet, pod *corev1.Pod) (bySet, byPod bool) {
	p := retentionOf(set)
	scaledDown := !inRange(set, pod)
	if p.WhenScaled == del && scaledDown {
		return false, true
	}
	return p.WhenDeleted == del, false
}

// claimOwnersOK reports whether the claim's references to the set and pod
// agree with the retention policy. Claims with stale references, or under
// another controller, count as OK: they are not touched.
func claimOwnersOK(claim *corev1.PersistentVolumeClaim, set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	if staleRef(claim, set, setKind) || staleRef(claim, pod, podKind) {
		return true
	}
	if foreignController(claim, set, pod) {
		return !ownedBy(claim, set) && !ownedBy(claim, pod)
	}
	for _, r := range claim.OwnerReferences {
		if (r.UID == set.UID || r.UID == pod.UID) && !ptr.Deref(r.Controller, false) {
			return false
		}
	}
	bySet, byPod := wantOwners(set, pod)
	return ownedBy(claim, set) == bySet && ownedBy(claim, pod) == byPod
}

// fixClaimOwners rewrites the claim's references to the set and pod to
// agree with the retention policy, keeping other references.
func fixClaimOwners(claim *corev1.PersistentVolumeClaim, set *appsv1.StatefulSet, pod *corev1.Pod) {
	foreign := foreignController(claim, set, pod)
	var refs []metav1.OwnerReference
	for _, r := range claim.OwnerReferences {
		if refersTo(&r, set, setKind) || refersTo(&r, pod, podKind) {
			continue
		}
		refs = append(refs, r)
	}
	if !foreign {
		bySet, byPod := wantOwners(set, pod)
		if bySet {
			refs = append(refs, *metav1.NewControllerRef(set, setKind))
		}
		if byPod && pod.UID != "" {
			refs = append(refs, *metav1.NewControllerRef(pod, podKind))
		}
	}
	claim.OwnerReferences = refs
}
