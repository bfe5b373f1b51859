package daemonset

import (
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/kubectl/pkg/util/podutils"
)

// rollingLimits are maxUnavailable and maxSurge scaled to desired, the
// number of nodes that should run the pod (percentages round up). Outside
// RollingUpdate both are 0.
func rollingLimits(ds *appsv1.DaemonSet, desired int) (maxUnavailable, maxSurge int, err error) {
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || ru == nil {
		return 0, 0, nil
	}
	if ru.MaxUnavailable != nil {
		maxUnavailable, err = intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, desired, true)
		if err != nil {
			return 0, 0, fmt.Errorf("daemonset: maxUnavailable: %w", err)
		}
	}
	if ru.MaxSurge != nil {
		maxSurge, err = intstr.GetScaledValueFromIntOrPercent(ru.MaxSurge, desired, true)
		if err != nil {
			return 0, 0, fmt.Errorf("daemonset: maxSurge: %w", err)
		}
	}
	return maxUnavailable, maxSurge, nil
}

// allowsSurge reports whether the strategy may put a new pod beside an old
// one on a node.
func allowsSurge(ds *appsv1.DaemonSet) bool {
	_, surge, err := rollingLimits(ds, 1)
	return err == nil && surge > 0
}

// splitNode finds the one current and the one old live pod on a node; ok is
// false when there are more of either, which the core loop prunes first.
func splitNode(pods []*corev1.Pod, hash string, gen *int64) (cur, old *corev1.Pod, ok bool) {
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		if isUpdated(p, hash, gen) {
			if cur != nil {
				return nil, nil, false
			}
			cur = p
		} else {
			if old != nil {
				return nil, nil, false
			}
			old = p
		}
	}
	return cur, old, true
}

// rollout is one step of a rolling update: old pods to delete, and nodes to
// start a new pod on beside an old one (surge only).
type rollout struct {
	remove []*corev1.Pod
	create []string
}

// planRollout decides one rolling-update step. nodes are all nodes; byNode
// the DaemonSet's pods by node. Without surge, old available pods are
// deleted while fewer than maxUnavailable nodes lack an available current
// pod (old unavailable pods are always replaced); the core loop then
// creates the new pods. With surge, a new pod is started beside up to
// maxSurge old available pods at a time, and an old pod goes once the new
// one beside it is available.
func planRollout(ds *appsv1.DaemonSet, nodes []*corev1.Node, byNode map[string][]*corev1.Pod, hash string, now metav1.Time) (rollout, error) {
	nodeByName := make(map[string]*corev1.Node, len(nodes))
	desired := 0
	work := make(map[string][]*corev1.Pod, len(byNode))
	for name, pods := range byNode {
		work[name] = pods
	}
	for _, n := range nodes {
		nodeByName[n.Name] = n
		if run, _ := shouldRun(n, ds); run {
			desired++
			if _, ok := work[n.Name]; !ok {
				work[n.Name] = nil
			}
		}
	}
	maxUnavailable, maxSurge, err := rollingLimits(ds, desired)
	if err != nil {
		return rollout{}, err
	}
	if desired > 0 && maxUnavailable == 0 && maxSurge == 0 {
		// An impossible strategy; fall back to one at a time.
		maxUnavailable = 1
	}
	names := make([]string, 0, len(work))
	for name := range work {
		names = append(names, name)
	}
	slices.Sort(names)
	gen := templateGeneration(ds)
	available := func(p *corev1.Pod) bool { return podutils.IsPodAvailable(p, ds.Spec.MinReadySeconds, now) }

	var plan rollout
	if maxSurge == 0 {
		unavailable := 0
		var candidates []*corev1.Pod
		for _, name := range names {
			cur, old, ok := splitNode(work[name], hash, gen)
			switch {
			case !ok, cur == nil && old == nil, cur != nil && old != nil:
				// The core loop still has to create or prune here.
				unavailable++
			case cur != nil:
				if !available(cur) {
					unavailable++
				}
			case !available(old):
				plan.remove = append(plan.remove, old)
				unavailable++
			case unavailable < maxUnavailable:
				candidates = append(candidates, old)
			}
		}
		room := min(max(maxUnavailable-unavailable, 0), len(candidates))
		plan.remove = append(plan.remove, candidates[:room]...)
		return plan, nil
	}

	surging := 0
	availableCount := 0
	var candidates []string
	var misplaced []*corev1.Pod
	for _, name := range names {
		cur, old, ok := splitNode(work[name], hash, gen)
		if !ok {
			surging++
			continue
		}
		if (old != nil && available(old)) || (old == nil && cur != nil && available(cur)) {
			availableCount++
		}
		switch {
		case old == nil:
		case cur == nil:
			node := nodeByName[name]
			run := false
			if node != nil {
				run, _ = shouldRun(node, ds)
			}
			switch {
			case !available(old) && !run:
				plan.remove = append(plan.remove, old)
			case !available(old):
				plan.create = append(plan.create, name)
			case !run:
				misplaced = append(misplaced, old)
			case surging < maxSurge:
				candidates = append(candidates, name)
			}
		case !available(cur):
			surging++
		default:
			plan.remove = append(plan.remove, old)
		}
	}
	// Pods on nodes that no longer qualify go only while enough others are
	// available, so that surging never drops below full availability.
	if spare := availableCount - desired; spare > 0 {
		plan.remove = append(plan.remove, misplaced[:min(spare, len(misplaced))]...)
	}
	room := min(max(maxSurge-surging, 0), len(candidates))
	plan.create = append(plan.create, candidates[:room]...)
	return plan, nil
}
