// Package framework is the scheduler's plugin API: the extension points a
// plugin implements, the per-cycle state plugins share, the snapshot types
// they decide from (NodeInfo, PodInfo, Resource), the Status they answer
// with, and the FitError that turns a failed cycle into upstream's
// "0/3 nodes are available: …" message, ending with what preemption would
// do (PreemptionMessage).
//
// A scheduling cycle runs the extension points in this order, each over the
// plugins in registry order:
//
//	PreFilter  once per pod: precompute, or Skip the plugin's Filter
//	Filter     once per node: reject a node with a reason
//	PreScore   once per pod, over the feasible nodes: precompute, or Skip
//	Score      once per feasible node, then NormalizeScore to 0–100
//
// A plugin is a type with a Name and one or more of the extension-point
// methods; each plugin package checks them at compile time:
//
//	var _ framework.FilterPlugin = (*Plugin)(nil)
//
// Plugins never do IO: they read the NodeInfo snapshot handed to them and
// the CycleState of the current pod, so they are pure and tested with
// plain tables:
//
//	fw, _ := framework.New([]framework.Plugin{nodeports.New()}, nil)
//	state := framework.NewCycleState()
//	pod := framework.NewPodInfo(podObject)
//	if s := fw.RunPreFilter(ctx, state, pod); s.IsSuccess() {
//		s = fw.RunFilter(ctx, state, pod, framework.NewNodeInfo(node))
//	}
//
// Plugins that reject pods can tell the queue which cluster events might
// make them pass (EnqueueExtensions), so an unschedulable pod is retried
// only when something relevant changed.
package framework
