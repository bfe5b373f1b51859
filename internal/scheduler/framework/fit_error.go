package framework

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The parts of upstream's message for a pod that fits no node.
const (
	// NoNodeAvailableMsg starts the message: "0/3 nodes are available".
	NoNodeAvailableMsg = "0/%v nodes are available"
	// PreemptionNotHelpful is the per-node reason of the preemption part.
	// skiff does not preempt, so for every node preemption is not what
	// will help, the reason upstream gives for nodes where evicting pods
	// would not make room.
	PreemptionNotHelpful = "Preemption is not helpful for scheduling"
	// PreemptionNeverMsg is upstream's preemption part for pods with
	// preemptionPolicy: Never.
	PreemptionNeverMsg = "not eligible due to preemptionPolicy=Never."
)

// Diagnosis records why a pod fits no node.
type Diagnosis struct {
	// NodeToStatus is each filtered node's rejecting status.
	NodeToStatus map[string]*Status
	// PreFilterMsg is set when a PreFilter plugin rejected the pod for
	// all nodes at once.
	PreFilterMsg string
	// UnschedulablePlugins are the plugins that rejected the pod.
	UnschedulablePlugins map[string]bool
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
	var b strings.Builder
	fmt.Fprintf(&b, NoNodeAvailableMsg+":", f.NumAllNodes)
	if msg := f.Diagnosis.PreFilterMsg; msg != "" {
		fmt.Fprintf(&b, " %v.", msg)
	} else if reasons := f.histogram(); len(reasons) > 0 {
		fmt.Fprintf(&b, " %v.", strings.Join(reasons, ", "))
	}
	fmt.Fprintf(&b, " preemption: %s", f.preemptionMessage())
	return b.String()
}

func (f *FitError) histogram() []string {
	counts := map[string]int{}
	for _, s := range f.Diagnosis.NodeToStatus {
		for _, r := range s.Reasons() {
			counts[r]++
		}
	}
	out := make([]string, 0, len(counts))
	for r, n := range counts {
		out = append(out, fmt.Sprintf("%d %s", n, r))
	}
	slices.Sort(out)
	return out
}

func (f *FitError) preemptionMessage() string {
	if p := f.Pod; p != nil && p.Spec.PreemptionPolicy != nil && *p.Spec.PreemptionPolicy == corev1.PreemptNever {
		return PreemptionNeverMsg
	}
	return fmt.Sprintf(NoNodeAvailableMsg+": %d %s.", f.NumAllNodes, f.NumAllNodes, PreemptionNotHelpful)
}
