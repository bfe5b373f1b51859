package framework

// EventResource is the kind of object a cluster event is about.
type EventResource string

// The resources the scheduler watches for events.
const (
	// Node events: a node was added, or changed in a way that matters.
	Node EventResource = "Node"
	// AssignedPod events: a pod on a node went away (deleted, or
	// finished), freeing what it held.
	AssignedPod EventResource = "AssignedPod"
)

// ActionType is a set of changes, as bits.
type ActionType uint32

// The changes a cluster event can carry.
const (
	Add ActionType = 1 << iota
	Delete
	// UpdateNodeAllocatable: status.allocatable changed.
	UpdateNodeAllocatable
	// UpdateNodeLabel: labels changed.
	UpdateNodeLabel
	// UpdateNodeTaint: taints or spec.unschedulable changed.
	UpdateNodeTaint

	// All matches every change.
	All ActionType = 1<<iota - 1
)

// ClusterEvent is a change in the cluster that may let waiting pods fit.
type ClusterEvent struct {
	Resource EventResource
	Action   ActionType
}

// Matches reports whether the event e is one that a plugin which registered
// interest in r cares about.
func (r ClusterEvent) Matches(e ClusterEvent) bool {
	return r.Resource == e.Resource && r.Action&e.Action != 0
}
