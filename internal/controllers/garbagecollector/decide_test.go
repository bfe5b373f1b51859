package garbagecollector

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

func ref(uid string, block bool) metav1.OwnerReference {
	r := metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "o-" + uid, UID: types.UID(uid)}
	if block {
		r.BlockOwnerDeletion = ptr.To(true)
	}
	return r
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name          string
		refs          []metav1.OwnerReference
		states        map[types.UID]ownerState
		hasDependents bool
		finalizers    []string
		want          action
	}{
		{name: "no owners", want: action{kind: keep}},
		{name: "owner alive", refs: []metav1.OwnerReference{ref("a", false)},
			states: map[types.UID]ownerState{"a": solid}, want: action{kind: keep}},
		{name: "only owner gone: background delete", refs: []metav1.OwnerReference{ref("a", false)},
			states: map[types.UID]ownerState{"a": dangling},
			want:   action{kind: deleteObject, policy: metav1.DeletePropagationBackground}},
		{name: "all owners gone", refs: []metav1.OwnerReference{ref("a", false), ref("b", true)},
			states: map[types.UID]ownerState{"a": dangling, "b": dangling},
			want:   action{kind: deleteObject, policy: metav1.DeletePropagationBackground}},
		{name: "one of two owners gone: drop its reference", refs: []metav1.OwnerReference{ref("a", false), ref("b", false)},
			states: map[types.UID]ownerState{"a": solid, "b": dangling},
			want:   action{kind: removeRefs, remove: []types.UID{"b"}}},
		{name: "live owner and a foreground-deleted one: drop the waiting reference",
			refs:   []metav1.OwnerReference{ref("a", false), ref("b", true)},
			states: map[types.UID]ownerState{"a": solid, "b": waiting},
			want:   action{kind: removeRefs, remove: []types.UID{"b"}}},
		{name: "owner in foreground deletion: delete in background",
			refs:   []metav1.OwnerReference{ref("a", true)},
			states: map[types.UID]ownerState{"a": waiting},
			want:   action{kind: deleteObject, policy: metav1.DeletePropagationBackground}},
		{name: "owner in foreground deletion, dependent owns things: unblock and delete in foreground",
			refs:          []metav1.OwnerReference{ref("a", true), ref("b", false)},
			states:        map[types.UID]ownerState{"a": waiting, "b": waiting},
			hasDependents: true,
			want:          action{kind: deleteObject, unblock: []types.UID{"a"}, policy: metav1.DeletePropagationForeground}},
		{name: "gone owner, dependent has orphan finalizer", refs: []metav1.OwnerReference{ref("a", false)},
			states: map[types.UID]ownerState{"a": dangling}, finalizers: []string{metav1.FinalizerOrphanDependents},
			want: action{kind: deleteObject, policy: metav1.DeletePropagationOrphan}},
		{name: "gone owner, dependent has foreground finalizer", refs: []metav1.OwnerReference{ref("a", false)},
			states: map[types.UID]ownerState{"a": dangling}, finalizers: []string{"x", metav1.FinalizerDeleteDependents},
			want: action{kind: deleteObject, policy: metav1.DeletePropagationForeground}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decide(tt.refs, tt.states, tt.hasDependents, tt.finalizers)
			if got.kind != tt.want.kind || got.policy != tt.want.policy ||
				!slices.Equal(got.remove, tt.want.remove) || !slices.Equal(got.unblock, tt.want.unblock) {
				t.Errorf("decide = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestBlocking(t *testing.T) {
	deps := []dependent{
		{id: identity{Name: "blocks", UID: "1"}, ref: ref("o", true)},
		{id: identity{Name: "free", UID: "2"}, ref: ref("o", false)},
		{id: identity{Name: "explicit-false", UID: "3"}, ref: metav1.OwnerReference{UID: "o", BlockOwnerDeletion: ptr.To(false)}},
	}
	got := blocking(deps)
	if len(got) != 1 || got[0].id.Name != "blocks" {
		t.Fatalf("blocking = %+v, want only the dependent with blockOwnerDeletion", got)
	}
	if len(blocking(deps[1:])) != 0 {
		t.Fatal("non-blocking dependents must not hold the owner")
	}
}

func TestRefEdits(t *testing.T) {
	refs := []metav1.OwnerReference{ref("a", true), ref("b", true), ref("c", false)}
	rest := withoutOwners(refs, []types.UID{"b"})
	if len(rest) != 2 || rest[0].UID != "a" || rest[1].UID != "c" {
		t.Fatalf("withoutOwners = %+v", rest)
	}
	if len(refs) != 3 {
		t.Fatal("withoutOwners changed its input")
	}
	ub := unblocked(refs, []types.UID{"a", "c"})
	if blocks(ub[0]) || !blocks(ub[1]) || ub[2].BlockOwnerDeletion != nil {
		t.Fatalf("unblocked = %+v", ub)
	}
	if !blocks(refs[0]) {
		t.Fatal("unblocked changed its input")
	}
	if f := withoutFinalizer([]string{"a", metav1.FinalizerDeleteDependents, "b"}, metav1.FinalizerDeleteDependents); !slices.Equal(f, []string{"a", "b"}) {
		t.Fatalf("withoutFinalizer = %v", f)
	}
}
