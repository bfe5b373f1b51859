package garbagecollector

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ownerState is what a dependent's owner turned out to be.
type ownerState int

const (
	// solid: the owner exists and is not waiting for its dependents.
	solid ownerState = iota
	// dangling: the owner is gone (or never existed, or cannot be an
	// owner of this object).
	dangling
	// waiting: the owner is being deleted in the foreground and waits for
	// its dependents to go.
	waiting
)

// actionKind is what the collector does to a dependent.
type actionKind int

const (
	keep actionKind = iota
	// removeRefs drops the references to dead or foreground-deleted
	// owners from a dependent that still has a live owner.
	removeRefs
	// deleteObject deletes the dependent with a propagation policy.
	deleteObject
)

// action is the decision about one dependent.
type action struct {
	kind actionKind
	// remove lists the owner UIDs whose references removeRefs drops.
	remove []types.UID
	// unblock lists owner UIDs whose references get blockOwnerDeletion
	// false before the delete, so that an owner in foreground deletion
	// does not wait for this dependent's own dependents.
	unblock []types.UID
	policy  metav1.DeletionPropagation
}

// decide applies upstream's rules to a dependent whose owners have been
// classified: with a live owner it only sheds references to dead or
// foreground-deleted owners; without one it is deleted. A dependent that
// has dependents of its own and an owner waiting in the foreground is
// deleted in the foreground too, after it stops blocking that owner;
// otherwise its own orphan or foreground finalizer picks the policy, and
// background is the default.
func decide(refs []metav1.OwnerReference, states map[types.UID]ownerState, hasDependents bool, finalizers []string) action {
	var solids, gone, waits []types.UID
	for _, r := range refs {
		switch states[r.UID] {
		case solid:
			solids = append(solids, r.UID)
		case dangling:
			gone = append(gone, r.UID)
		case waiting:
			waits = append(waits, r.UID)
		}
	}
	switch {
	case len(refs) == 0:
		return action{kind: keep}
	case len(solids) > 0:
		if len(gone)+len(waits) == 0 {
			return action{kind: keep}
		}
		return action{kind: removeRefs, remove: append(gone, waits...)}
	case len(waits) > 0 && hasDependents:
		var unblock []types.UID
		for _, r := range refs {
			if states[r.UID] == waiting && blocks(r) {
				unblock = append(unblock, r.UID)
			}
		}
		return action{kind: deleteObject, unblock: unblock, policy: metav1.DeletePropagationForeground}
	case slices.Contains(finalizers, metav1.FinalizerOrphanDependents):
		return action{kind: deleteObject, policy: metav1.DeletePropagationOrphan}
	case slices.Contains(finalizers, metav1.FinalizerDeleteDependents):
		return action{kind: deleteObject, policy: metav1.DeletePropagationForeground}
	default:
		return action{kind: deleteObject, policy: metav1.DeletePropagationBackground}
	}
}

// blocking lists the dependents that hold up an owner's foreground
// deletion: those whose reference to it has blockOwnerDeletion set.
func blocking(deps []dependent) []dependent {
	var out []dependent
	for _, d := range deps {
		if blocks(d.ref) {
			out = append(out, d)
		}
	}
	return out
}

// withoutOwners is refs minus the references to the given owners.
func withoutOwners(refs []metav1.OwnerReference, uids []types.UID) []metav1.OwnerReference {
	return slices.DeleteFunc(slices.Clone(refs), func(r metav1.OwnerReference) bool {
		return slices.Contains(uids, r.UID)
	})
}

// unblocked is refs with blockOwnerDeletion false on the references to
// the given owners.
func unblocked(refs []metav1.OwnerReference, uids []types.UID) []metav1.OwnerReference {
	out := slices.Clone(refs)
	for i := range out {
		if slices.Contains(uids, out[i].UID) && blocks(out[i]) {
			f := false
			out[i].BlockOwnerDeletion = &f
		}
	}
	return out
}

// withoutFinalizer is finalizers minus f.
func withoutFinalizer(finalizers []string, f string) []string {
	return slices.DeleteFunc(slices.Clone(finalizers), func(s string) bool { return s == f })
}
