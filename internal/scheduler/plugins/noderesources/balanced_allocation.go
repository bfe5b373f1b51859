package noderesources

import (
	"context"
	"math"

	"skiff.dev/internal/scheduler/framework"
)

// BalancedAllocationName is the NodeResourcesBalancedAllocation plugin's
// name in the registry.
const BalancedAllocationName = "NodeResourcesBalancedAllocation"

// BalancedAllocation scores a node by how evenly its resources would be
// used with the pod on it: 100 × (1 − the standard deviation of the
// requested/allocatable fractions). It counts real requests, not the
// non-zero defaults, and skips pods that request none of its resources
// (best-effort pods), which would otherwise all pile onto one node.
type BalancedAllocation struct {
	resources []ResourceWeight
}

var (
	_ framework.PreScorePlugin = (*BalancedAllocation)(nil)
	_ framework.ScorePlugin    = (*BalancedAllocation)(nil)
)

// NewBalancedAllocation returns the plugin weighing resources; none means
// cpu and memory.
func NewBalancedAllocation(resources ...ResourceWeight) (*BalancedAllocation, error) {
	if len(resources) == 0 {
		resources = defaultResources
	}
	if err := validateResources(resources); err != nil {
		return nil, err
	}
	return &BalancedAllocation{resources: resources}, nil
}

// Name returns BalancedAllocationName.
func (*BalancedAllocation) Name() string { return BalancedAllocationName }

// PreScore skips pods that request none of the resources.
func (b *BalancedAllocation) PreScore(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, _ []*framework.NodeInfo) *framework.Status {
	empty := framework.NodeInfo{}
	for _, r := range b.resources {
		if _, requested := amounts(pod, &empty, r.Name, false); requested > 0 {
			return nil
		}
	}
	return framework.NewStatus(framework.Skip)
}

// Score is 100 × (1 − σ) over the used fractions (each capped at 1).
func (b *BalancedAllocation) Score(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	var fractions [8]float64
	frac := fractions[:0]
	var total float64
	for _, r := range b.resources {
		allocatable, requested := amounts(pod, node, r.Name, false)
		if allocatable == 0 {
			continue
		}
		f := min(float64(requested)/float64(allocatable), 1)
		frac = append(frac, f)
		total += f
	}
	var std float64
	switch {
	case len(frac) == 2:
		std = math.Abs(frac[0]-frac[1]) / 2
	case len(frac) > 2:
		mean := total / float64(len(frac))
		var sum float64
		for _, f := range frac {
			sum += (f - mean) * (f - mean)
		}
		std = math.Sqrt(sum / float64(len(frac)))
	}
	return int64((1 - std) * float64(framework.MaxNodeScore)), nil
}
