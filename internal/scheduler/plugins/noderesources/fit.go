package noderesources

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"skiff.dev/internal/scheduler/framework"
)

// FitName is the NodeResourcesFit plugin's name in the registry.
const FitName = "NodeResourcesFit"

// Reasons a node that cannot hold the pod gives: "Insufficient cpu",
// "Insufficient example.com/gpu", or too many pods.
const (
	ErrReasonTooManyPods  = "Too many pods"
	errReasonInsufficient = "Insufficient %v"
)

// ErrReasonInsufficient is the reason for a resource the node lacks.
func ErrReasonInsufficient(name corev1.ResourceName) string {
	return fmt.Sprintf(errReasonInsufficient, name)
}

// Strategy is how NodeResourcesFit scores nodes.
type Strategy string

// The scoring strategies.
const (
	// LeastAllocated prefers the emptiest nodes: pods spread.
	LeastAllocated Strategy = "LeastAllocated"
	// MostAllocated prefers the fullest nodes: pods pack.
	MostAllocated Strategy = "MostAllocated"
)

// FitArgs configure NodeResourcesFit.
type FitArgs struct {
	Strategy  Strategy
	Resources []ResourceWeight
}

// DefaultFitArgs are upstream's defaults: LeastAllocated over cpu and
// memory, weighed equally.
func DefaultFitArgs() FitArgs {
	return FitArgs{Strategy: LeastAllocated, Resources: defaultResources}
}

// Fit is the NodeResourcesFit filter and score.
type Fit struct {
	strategy  Strategy
	resources []ResourceWeight
}

var (
	_ framework.FilterPlugin      = (*Fit)(nil)
	_ framework.ScorePlugin       = (*Fit)(nil)
	_ framework.EnqueueExtensions = (*Fit)(nil)
)

// NewFit validates args and returns the plugin.
func NewFit(args FitArgs) (*Fit, error) {
	if args.Strategy != LeastAllocated && args.Strategy != MostAllocated {
		return nil, fmt.Errorf("noderesources: unknown scoring strategy %q", args.Strategy)
	}
	if err := validateResources(args.Resources); err != nil {
		return nil, err
	}
	return &Fit{strategy: args.Strategy, resources: args.Resources}, nil
}

func validateResources(rs []ResourceWeight) error {
	if len(rs) == 0 {
		return fmt.Errorf("noderesources: no resources to score")
	}
	seen := map[corev1.ResourceName]bool{}
	for _, r := range rs {
		if seen[r.Name] {
			return fmt.Errorf("noderesources: resource %q listed twice", r.Name)
		}
		seen[r.Name] = true
		if r.Weight < 1 || r.Weight > 100 {
			return fmt.Errorf("noderesources: resource %q has weight %d, want 1 to 100", r.Name, r.Weight)
		}
	}
	return nil
}

// Name returns FitName.
func (*Fit) Name() string { return FitName }

// Filter rejects a node without room for the pod, with a reason for each
// resource it lacks. A request larger than the node's whole allocatable is
// unresolvable: no eviction could make room.
func (*Fit) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	var reasons []string
	code := framework.Unschedulable
	if int64(len(node.Pods))+1 > node.Allocatable.AllowedPodNumber {
		reasons = append(reasons, ErrReasonTooManyPods)
	}
	want, have, used := &pod.Requests, &node.Allocatable, &node.Requested
	check := func(name corev1.ResourceName, want, have, used int64) {
		if want > 0 && want > have-used {
			reasons = append(reasons, ErrReasonInsufficient(name))
			if want > have {
				code = framework.UnschedulableAndUnresolvable
			}
		}
	}
	check(corev1.ResourceCPU, want.MilliCPU, have.MilliCPU, used.MilliCPU)
	check(corev1.ResourceMemory, want.Memory, have.Memory, used.Memory)
	check(corev1.ResourceEphemeralStorage, want.EphemeralStorage, have.EphemeralStorage, used.EphemeralStorage)
	for name, v := range want.Scalar {
		check(name, v, have.Scalar[name], used.Scalar[name])
	}
	if len(reasons) == 0 {
		return nil
	}
	return framework.NewStatus(code, reasons...)
}

// Score rates the node by the share of each resource left (LeastAllocated)
// or used (MostAllocated) once the pod is on it, weighed by resource.
func (f *Fit) Score(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	var score, weights int64
	for _, r := range f.resources {
		allocatable, requested := amounts(pod, node, r.Name, true)
		if allocatable == 0 {
			continue
		}
		var s int64
		switch {
		case requested > allocatable && f.strategy == LeastAllocated:
			s = 0
		case requested > allocatable:
			s = framework.MaxNodeScore
		case f.strategy == LeastAllocated:
			s = (allocatable - requested) * framework.MaxNodeScore / allocatable
		default:
			s = requested * framework.MaxNodeScore / allocatable
		}
		score += s * r.Weight
		weights += r.Weight
	}
	if weights == 0 {
		return 0, nil
	}
	return score / weights, nil
}

// EventsToRegister: a new node, a node's allocatable changing, or a pod on
// a node going away.
func (*Fit) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{
		{Resource: framework.Node, Action: framework.Add | framework.UpdateNodeAllocatable},
		{Resource: framework.AssignedPod, Action: framework.Delete},
	}
}
