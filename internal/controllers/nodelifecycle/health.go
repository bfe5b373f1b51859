package nodelifecycle

import (
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/internal/controllers/ctrl"
)

// Condition reasons and messages upstream's controller writes when a
// node's agent goes quiet.
const (
	reasonUnknown      = "NodeStatusUnknown"
	messageUnknown     = "Kubelet stopped posting node status."
	reasonNeverUpdated = "NodeStatusNeverUpdated"
	messageNeverPosted = "Kubelet never posted node status."
)

// watchedConditions are the conditions set to Unknown when a node stops
// reporting.
var watchedConditions = []corev1.NodeConditionType{
	corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure,
}

// probe is what the controller last heard from one node: the newest Ready
// heartbeat and Lease renewal it saw, and when, on the controller's own
// clock, either of them last moved. Timing a node by when its heartbeats
// were seen, not by the times they carry, keeps the verdict right when the
// node's clock and the controller's disagree (as upstream does).
type probe struct {
	heartbeat time.Time // the Ready condition's lastHeartbeatTime
	renew     time.Time // the Lease's renewTime
	seen      time.Time // when either last advanced
}

// observe folds the node's Ready heartbeat and its Lease into prev (nil
// for a node not seen before) at now. A new node counts as heard from now,
// or from its creation when it has neither a Ready condition nor a Lease.
func observe(prev *probe, node *corev1.Node, lease *coordinationv1.Lease, now time.Time) probe {
	var heartbeat, renew time.Time
	ready := condition(node, corev1.NodeReady)
	if ready != nil {
		heartbeat = ready.LastHeartbeatTime.Time
	}
	if lease != nil && lease.Spec.RenewTime != nil {
		renew = lease.Spec.RenewTime.Time
	}
	if prev == nil {
		seen := now
		if ready == nil && lease == nil && !node.CreationTimestamp.IsZero() {
			seen = node.CreationTimestamp.Time
		}
		return probe{heartbeat: heartbeat, renew: renew, seen: seen}
	}
	p := *prev
	if !heartbeat.Equal(p.heartbeat) {
		p.heartbeat, p.seen = heartbeat, now
	}
	if renew.After(p.renew) {
		p.renew, p.seen = renew, now
	}
	return p
}

// gracePeriod is how long node may stay silent: the startup allowance
// while it has never posted a Ready condition, the monitor grace period
// after.
func gracePeriod(node *corev1.Node, opts ctrl.Options) time.Duration {
	if condition(node, corev1.NodeReady) == nil {
		return opts.NodeStartupGracePeriod
	}
	return opts.NodeMonitorGracePeriod
}

// silent reports whether nothing was heard from node for longer than its
// grace period.
func silent(p probe, node *corev1.Node, opts ctrl.Options, now time.Time) bool {
	return now.After(p.seen.Add(gracePeriod(node, opts)))
}

// markUnknown sets the watched conditions of a silent node to Unknown,
// adding those the agent never posted, and reports whether anything
// changed. Heartbeat times stay as the agent left them.
func markUnknown(node *corev1.Node, now metav1.Time) bool {
	changed := false
	for _, t := range watchedConditions {
		c := condition(node, t)
		if c == nil {
			node.Status.Conditions = append(node.Status.Conditions, corev1.NodeCondition{
				Type: t, Status: corev1.ConditionUnknown, Reason: reasonNeverUpdated, Message: messageNeverPosted,
				LastHeartbeatTime: node.CreationTimestamp, LastTransitionTime: now,
			})
			changed = true
			continue
		}
		if c.Status == corev1.ConditionUnknown {
			continue
		}
		c.Status, c.Reason, c.Message, c.LastTransitionTime = corev1.ConditionUnknown, reasonUnknown, messageUnknown, now
		changed = true
	}
	return changed
}

// condition finds a node condition; the pointer is into node's status.
func condition(node *corev1.Node, t corev1.NodeConditionType) *corev1.NodeCondition {
	for i := range node.Status.Conditions {
		if node.Status.Conditions[i].Type == t {
			return &node.Status.Conditions[i]
		}
	}
	return nil
}

// readyStatus is the node's Ready status; a missing condition is Unknown.
func readyStatus(node *corev1.Node) corev1.ConditionStatus {
	if c := condition(node, corev1.NodeReady); c != nil {
		return c.Status
	}
	return corev1.ConditionUnknown
}
