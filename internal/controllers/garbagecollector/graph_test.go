package garbagecollector

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

var configMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

func obs(uid, ns string, owners ...metav1.OwnerReference) observed {
	return observed{id: identity{APIVersion: "v1", Kind: "ConfigMap", Namespace: ns, Name: "o-" + uid, UID: types.UID(uid)},
		resource: configMaps, owners: owners}
}

func uids(s ...string) []types.UID {
	out := make([]types.UID, len(s))
	for i, x := range s {
		out[i] = types.UID(x)
	}
	return out
}

func sorted(u []types.UID) []types.UID {
	u = slices.Clone(u)
	slices.Sort(u)
	return slices.Compact(u)
}

func TestGraphUnknownOwnerIsVirtualAndChecked(t *testing.T) {
	g := newGraph()
	w := g.upsert(obs("dep", "ns", ref("owner", false)))
	if !slices.Equal(w.attemptToDelete, uids("owner")) {
		t.Fatalf("attemptToDelete = %v, want the virtual owner checked", w.attemptToDelete)
	}
	s, ok := g.snapshot("owner")
	if !ok || !s.virtual || s.id.Namespace != "ns" || len(s.dependents) != 1 {
		t.Fatalf("owner snapshot = %+v, %v", s, ok)
	}
	// Verified gone: the dependents are looked at and the node goes.
	w = g.removeVirtual("owner")
	if !slices.Equal(w.attemptToDelete, uids("dep")) {
		t.Fatalf("after removeVirtual attemptToDelete = %v, want dep", w.attemptToDelete)
	}
	if _, ok := g.snapshot("owner"); ok {
		t.Fatal("virtual owner still in the graph")
	}
}

func TestGraphObservedOwnerReplacesVirtual(t *testing.T) {
	g := newGraph()
	g.upsert(obs("dep", "ns", ref("owner", false)))
	w := g.upsert(obs("owner", "ns"))
	if len(w.attemptToDelete) != 0 {
		t.Fatalf("matching owner observed: attemptToDelete = %v, want none", w.attemptToDelete)
	}
	if w := g.removeVirtual("owner"); len(w.attemptToDelete) != 0 {
		t.Fatal("removeVirtual dropped an observed owner")
	}
	if !g.hasDependents("owner") {
		t.Fatal("observed owner lost its dependent")
	}
}

func TestGraphOwnerDeletedQueuesDependents(t *testing.T) {
	g := newGraph()
	g.upsert(obs("owner", "ns"))
	g.upsert(obs("d1", "ns", ref("owner", false)))
	g.upsert(obs("d2", "ns", ref("owner", true), ref("other", false)))
	w := g.remove("owner")
	if got := sorted(w.attemptToDelete); !slices.Equal(got, uids("d1", "d2")) {
		t.Fatalf("attemptToDelete = %v, want d1 d2", got)
	}
}

func TestGraphForegroundTransition(t *testing.T) {
	g := newGraph()
	g.upsert(obs("owner", "ns"))
	g.upsert(obs("d1", "ns", ref("owner", true)))
	g.upsert(obs("d2", "ns", ref("owner", false)))
	o := obs("owner", "ns")
	o.deleting = true
	o.finalizers = []string{metav1.FinalizerDeleteDependents}
	w := g.upsert(o)
	if got := sorted(w.attemptToDelete); !slices.Equal(got, uids("d1", "d2", "owner")) {
		t.Fatalf("foreground start: attemptToDelete = %v, want owner and all dependents", got)
	}
	// The same state again is no transition.
	if w := g.upsert(o); len(w.attemptToDelete) != 0 {
		t.Fatalf("repeated update queued %v", w.attemptToDelete)
	}
	// A blocking dependent going wakes the owner.
	if w := g.remove("d1"); !slices.Equal(w.attemptToDelete, uids("owner")) {
		t.Fatalf("dependent removed: attemptToDelete = %v, want owner", w.attemptToDelete)
	}
	s, _ := g.snapshot("owner")
	if len(blocking(s.dependents)) != 0 || len(s.dependents) != 1 {
		t.Fatalf("owner dependents = %+v, want only the non-blocking d2", s.dependents)
	}
}

func TestGraphDependentStopsBlocking(t *testing.T) {
	g := newGraph()
	o := obs("owner", "ns")
	o.deleting = true
	o.finalizers = []string{metav1.FinalizerDeleteDependents}
	g.upsert(o)
	g.upsert(obs("d", "ns", ref("owner", true)))
	if w := g.upsert(obs("d", "ns", ref("owner", false))); !slices.Equal(w.attemptToDelete, uids("owner")) {
		t.Fatalf("unblocked: attemptToDelete = %v, want owner", w.attemptToDelete)
	}
	if w := g.upsert(obs("d", "ns")); !slices.Equal(w.attemptToDelete, uids("owner")) {
		t.Fatalf("reference removed: attemptToDelete = %v, want owner", w.attemptToDelete)
	}
	if g.hasDependents("owner") {
		t.Fatal("owner still lists the dependent that dropped its reference")
	}
}

func TestGraphOrphanTransition(t *testing.T) {
	g := newGraph()
	g.upsert(obs("owner", "ns"))
	g.upsert(obs("d", "ns", ref("owner", false)))
	o := obs("owner", "ns")
	o.deleting = true
	o.finalizers = []string{metav1.FinalizerOrphanDependents}
	w := g.upsert(o)
	if !slices.Equal(w.attemptToOrphan, uids("owner")) || len(w.attemptToDelete) != 0 {
		t.Fatalf("orphan start: %+v, want only the owner queued for orphaning", w)
	}
	// An owner first seen already orphaning is queued too (restart).
	g2 := newGraph()
	if w := g2.upsert(o); !slices.Equal(w.attemptToOrphan, uids("owner")) {
		t.Fatalf("first observation: %+v", w)
	}
}

func TestGraphOwnerInOtherNamespaceIsChecked(t *testing.T) {
	g := newGraph()
	g.upsert(obs("owner", "a"))
	w := g.upsert(obs("d", "b", ref("owner", false)))
	if !slices.Equal(w.attemptToDelete, uids("d")) {
		t.Fatalf("cross-namespace reference: attemptToDelete = %v, want the dependent", w.attemptToDelete)
	}
	// A cluster-scoped owner is fine from any namespace.
	g.upsert(observed{id: identity{APIVersion: "v1", Kind: "Node", Name: "n", UID: "node"}})
	if w := g.upsert(obs("d2", "b", ref("node", false))); len(w.attemptToDelete) != 0 {
		t.Fatalf("cluster-scoped owner: attemptToDelete = %v, want none", w.attemptToDelete)
	}
}

func TestGraphRemoveResource(t *testing.T) {
	g := newGraph()
	other := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}
	w := observed{id: identity{APIVersion: "example.com/v1", Kind: "Widget", Namespace: "ns", Name: "w", UID: "w"}, resource: other}
	g.upsert(w)
	g.upsert(obs("d", "ns", ref("w", false)))
	work := g.removeResource(other)
	if !slices.Equal(work.attemptToDelete, uids("d")) {
		t.Fatalf("attemptToDelete = %v, want d", work.attemptToDelete)
	}
	if _, ok := g.snapshot("w"); ok {
		t.Fatal("object of a removed resource kept")
	}
	if _, ok := g.snapshot("d"); !ok {
		t.Fatal("object of another resource dropped")
	}
}
