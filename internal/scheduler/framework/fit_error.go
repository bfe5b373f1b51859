package framework

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// NoNodeAvailableMsg starts the message of a pod that fits no node:
// "0/3 nodes are available".
const NoNodeAvailableMsg = "0/%v nodes are available"

// Diagnosis records why a pod fits no node.
type Diagnosis struct {
	// NodeToStatus is each filtered node's rejecting status.
	NodeToStatus map[string]*Status
	// PreFilterStatus is set when a PreFilter plugin rejected the pod for
	// all nodes at once.
	PreFilterStatus *Status
	// UnschedulablePlugins are the plugins that rejected the pod.
	UnschedulablePlugins map[string]bool
	// PreemptionMsg is what preemption would do, from
	// Framework.PreemptionMessage; the message ends with it.
	PreemptionMsg string
}

// FitError is the error of a cycle that found no node for the pod.
type FitError struct {
	Pod         *corev1.Pod
	NumAllNodes int
	Diagnosis   Diagnosis
}

// Error builds upstream's message: the count of nodes, then each reason
// with the number of nodes that gave it, sorted as strings, then what
// preemption would do. For example:
//
//	0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint(s). preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.
func (f *FitError) Error() string {
	d := &f.Diagnosis
	msg := fmt.Sprintf(NoNodeAvailableMsg+":", f.NumAllNodes)
	if m := d.PreFilterStatus.Message(); m != "" {
		msg += " " + m + "."
	} else if reasons := histogram(f.NumAllNodes, d.NodeToStatus, ""); len(reasons) > 0 {
		msg += " " + strings.Join(reasons, ", ") + "."
	}
	if d.PreemptionMsg != "" {
		msg += " " + d.PreemptionMsg
	}
	return msg
}

// histogram counts the statuses' reasons, each as "<nodes> <reason>",
// sorted as strings as upstream sorts them ("10 …" before "2 …"). Nodes
// without a status count with absentReason, unless it is empty.
func histogram(numAllNodes int, statuses map[string]*Status, absentReason string) []string {
	counts := map[string]int{}
	for _, s := range statuses {
		for _, r := range s.Reasons() {
			counts[r]++
		}
	}
	if absent := numAllNodes - len(statuses); absent > 0 && absentReason != "" {
		counts[absentReason] += absent
	}
	reasons := make([]string, 0, len(counts))
	for r, n := range counts {
		reasons = append(reasons, fmt.Sprintf("%d %s", n, r))
	}
	slices.Sort(reasons)
	return reasons
}
