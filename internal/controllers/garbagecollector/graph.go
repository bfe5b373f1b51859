package garbagecollector

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// identity names one object: the owner reference that would point at it,
// plus its namespace.
type identity struct {
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
	UID        types.UID
}

// node is one object in the graph. A virtual node stands for an owner some
// dependent names but that no informer has shown yet; it must be checked
// against the API server.
type node struct {
	id         identity
	resource   schema.GroupVersionResource // empty for virtual nodes
	owners     []metav1.OwnerReference
	finalizers []string
	deleting   bool // has a deletionTimestamp
	virtual    bool
	dependents map[types.UID]*node
}

// deletingDependents reports whether the node is being deleted in the
// foreground: it waits for its blocking dependents to go.
func (n *node) deletingDependents() bool {
	return n.deleting && slices.Contains(n.finalizers, metav1.FinalizerDeleteDependents)
}

// orphaning reports whether the node waits for its dependents to be
// orphaned.
func (n *node) orphaning() bool {
	return n.deleting && slices.Contains(n.finalizers, metav1.FinalizerOrphanDependents)
}

// observed is what an informer reports about one object.
type observed struct {
	id         identity
	resource   schema.GroupVersionResource
	owners     []metav1.OwnerReference
	finalizers []string
	deleting   bool
}

// observe turns an object's metadata into an observation.
func observe(m metav1.Object, gvk schema.GroupVersionKind, gvr schema.GroupVersionResource) observed {
	apiVersion, kind := gvk.ToAPIVersionAndKind()
	return observed{
		id: identity{APIVersion: apiVersion, Kind: kind, Namespace: m.GetNamespace(),
			Name: m.GetName(), UID: m.GetUID()},
		resource:   gvr,
		owners:     m.GetOwnerReferences(),
		finalizers: m.GetFinalizers(),
		deleting:   m.GetDeletionTimestamp() != nil,
	}
}

// work is what a graph change asks the workers to look at.
type work struct {
	attemptToDelete []types.UID
	attemptToOrphan []types.UID
}

func (w *work) delete(uids ...types.UID) { w.attemptToDelete = append(w.attemptToDelete, uids...) }

// graph links owners to their dependents by UID. It is not safe for
// concurrent use; the controller guards it.
type graph struct {
	nodes map[types.UID]*node
}

func newGraph() *graph { return &graph{nodes: map[types.UID]*node{}} }

// upsert records an added or updated object.
func (g *graph) upsert(o observed) work {
	var w work
	n := g.nodes[o.id.UID]
	if n == nil {
		n = &node{id: o.id, dependents: map[types.UID]*node{}}
		g.nodes[o.id.UID] = n
		g.set(n, o)
		for _, ref := range o.owners {
			g.link(n, ref, &w)
		}
		if n.orphaning() {
			w.attemptToOrphan = append(w.attemptToOrphan, n.id.UID)
		}
		if n.deletingDependents() {
			w.delete(n.id.UID)
			w.delete(dependentUIDs(n)...)
		}
		return w
	}
	if n.virtual {
		// The owner its dependents pointed at is real after all; if they
		// described it differently (namespace, kind), let them be checked.
		if n.id != o.id {
			w.delete(dependentUIDs(n)...)
		}
		n.virtual = false
		n.id = o.id
	}
	wasOrphaning, wasDeletingDependents := n.orphaning(), n.deletingDependents()
	added, removed, unblocked := diffOwners(n.owners, o.owners)
	g.set(n, o)
	for _, ref := range added {
		g.link(n, ref, &w)
	}
	for _, ref := range removed {
		g.unlink(n, ref.UID, &w)
	}
	for _, uid := range unblocked {
		if owner := g.nodes[uid]; owner != nil && owner.deletingDependents() {
			w.delete(uid)
		}
	}
	if n.orphaning() && !wasOrphaning {
		w.attemptToOrphan = append(w.attemptToOrphan, n.id.UID)
	}
	if n.deletingDependents() && !wasDeletingDependents {
		w.delete(n.id.UID)
		w.delete(dependentUIDs(n)...)
	}
	return w
}

// remove records that an object is gone: its dependents must be checked,
// and owners waiting for it may finish.
func (g *graph) remove(uid types.UID) work {
	var w work
	n := g.nodes[uid]
	if n == nil {
		return w
	}
	delete(g.nodes, uid)
	for _, ref := range n.owners {
		g.unlink(n, ref.UID, &w)
	}
	w.delete(dependentUIDs(n)...)
	return w
}

// removeVirtual drops a virtual node found not to exist; a node observed
// meanwhile stays.
func (g *graph) removeVirtual(uid types.UID) work {
	if n := g.nodes[uid]; n == nil || !n.virtual {
		return work{}
	}
	return g.remove(uid)
}

func (g *graph) set(n *node, o observed) {
	n.resource = o.resource
	n.owners = slices.Clone(o.owners)
	n.finalizers = slices.Clone(o.finalizers)
	n.deleting = o.deleting
}

// link makes n a dependent of the owner ref names, creating a virtual
// owner when the graph has not seen it. Either a virtual owner or one that
// lives in another namespace than n makes n worth checking.
func (g *graph) link(n *node, ref metav1.OwnerReference, w *work) {
	owner := g.nodes[ref.UID]
	if owner == nil {
		owner = &node{virtual: true, dependents: map[types.UID]*node{},
			id: identity{APIVersion: ref.APIVersion, Kind: ref.Kind, Namespace: n.id.Namespace,
				Name: ref.Name, UID: ref.UID}}
		g.nodes[ref.UID] = owner
		w.delete(ref.UID)
	}
	owner.dependents[n.id.UID] = n
	if !owner.virtual && owner.id.Namespace != "" && owner.id.Namespace != n.id.Namespace {
		w.delete(n.id.UID)
	}
}

// unlink drops n from the dependents of the owner with uid. An owner
// waiting for its dependents is woken; a virtual owner nobody points at
// any more is dropped.
func (g *graph) unlink(n *node, uid types.UID, w *work) {
	owner := g.nodes[uid]
	if owner == nil {
		return
	}
	delete(owner.dependents, n.id.UID)
	if owner.deletingDependents() {
		w.delete(uid)
	}
	if owner.virtual && len(owner.dependents) == 0 {
		delete(g.nodes, uid)
	}
}

// diffOwners compares two ownerReference lists by UID: references added,
// removed, and those that stopped blocking their owner's deletion.
func diffOwners(old, cur []metav1.OwnerReference) (added, removed []metav1.OwnerReference, unblocked []types.UID) {
	byUID := map[types.UID]metav1.OwnerReference{}
	for _, r := range old {
		byUID[r.UID] = r
	}
	seen := map[types.UID]bool{}
	for _, r := range cur {
		seen[r.UID] = true
		prev, ok := byUID[r.UID]
		if !ok {
			added = append(added, r)
			continue
		}
		if blocks(prev) && !blocks(r) {
			unblocked = append(unblocked, r.UID)
		}
	}
	for _, r := range old {
		if !seen[r.UID] {
			removed = append(removed, r)
		}
	}
	return added, removed, unblocked
}

func blocks(r metav1.OwnerReference) bool {
	return r.BlockOwnerDeletion != nil && *r.BlockOwnerDeletion
}

func dependentUIDs(n *node) []types.UID {
	out := make([]types.UID, 0, len(n.dependents))
	for uid := range n.dependents {
		out = append(out, uid)
	}
	slices.Sort(out)
	return out
}

// snapshot is a copy of what a worker needs to know about one node, taken
// under the graph's lock.
type snapshot struct {
	id         identity
	resource   schema.GroupVersionResource
	virtual    bool
	dependents []dependent
}

// dependent is one dependent of a snapshot's node.
type dependent struct {
	id                 identity
	resource           schema.GroupVersionResource
	ref                metav1.OwnerReference // its reference to the owner
	deletingDependents bool
}

func (g *graph) snapshot(uid types.UID) (snapshot, bool) {
	n := g.nodes[uid]
	if n == nil {
		return snapshot{}, false
	}
	s := snapshot{id: n.id, resource: n.resource, virtual: n.virtual}
	for _, d := range n.dependents {
		for _, ref := range d.owners {
			if ref.UID == uid {
				s.dependents = append(s.dependents, dependent{id: d.id, resource: d.resource, ref: ref,
					deletingDependents: d.deletingDependents()})
				break
			}
		}
	}
	slices.SortFunc(s.dependents, func(a, b dependent) int {
		if a.id.UID < b.id.UID {
			return -1
		}
		if a.id.UID > b.id.UID {
			return 1
		}
		return 0
	})
	return s, true
}

// hasDependents reports whether the object with uid owns anything.
func (g *graph) hasDependents(uid types.UID) bool {
	n := g.nodes[uid]
	return n != nil && len(n.dependents) > 0
}

// removeResource drops every observed object of a resource no longer
// served (a deleted custom resource definition).
func (g *graph) removeResource(gvr schema.GroupVersionResource) work {
	var w work
	for uid, n := range g.nodes {
		if !n.virtual && n.resource == gvr {
			r := g.remove(uid)
			w.attemptToDelete = append(w.attemptToDelete, r.attemptToDelete...)
		}
	}
	return w
}
