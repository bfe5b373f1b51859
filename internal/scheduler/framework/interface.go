package framework

import "context"

// Score bounds: every Score plugin's scores end up in [MinNodeScore,
// MaxNodeScore] after NormalizeScore, before the plugin's weight is applied.
const (
	MinNodeScore int64 = 0
	MaxNodeScore int64 = 100
)

// Plugin is what every plugin is: something with a name, unique in a
// registry, that appears in logs and in a pod's unschedulable plugins.
type Plugin interface {
	Name() string
}

// PreFilterPlugin runs once per pod before any node is filtered. It can
// precompute state for its Filter (CycleState), reject the pod for every
// node at once, or return Skip so that its Filter is not run at all for
// this pod (the common case made cheap: no host ports, no affinity).
type PreFilterPlugin interface {
	Plugin
	PreFilter(ctx context.Context, state *CycleState, pod *PodInfo) *Status
}

// FilterPlugin decides whether the pod may run on one node. It returns nil
// (success) or a Status whose reasons say why not, e.g. "Insufficient cpu".
// Filter is called concurrently for different nodes; it must only read
// state written by PreFilter.
type FilterPlugin interface {
	Plugin
	Filter(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) *Status
}

// PreScorePlugin runs once per pod over the nodes that passed filtering. It
// can precompute state for its Score or return Skip so that its Score is not
// run for this pod.
type PreScorePlugin interface {
	Plugin
	PreScore(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo) *Status
}

// ScorePlugin ranks one feasible node. Scores of a plugin either fall in
// [MinNodeScore, MaxNodeScore] already or are brought there by
// NormalizeScore; the framework then multiplies them by the plugin's weight
// and adds up all plugins.
type ScorePlugin interface {
	Plugin
	Score(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) (int64, *Status)
}

// ScoreNormalizer is implemented by Score plugins whose raw scores need
// rescaling once every node is scored. scores is aligned with the nodes
// that were scored and is rewritten in place.
type ScoreNormalizer interface {
	NormalizeScore(ctx context.Context, state *CycleState, pod *PodInfo, scores []int64) *Status
}

// EnqueueExtensions is implemented by plugins that reject pods and know
// which cluster events could change their mind. A pod that a plugin
// rejected waits in the unschedulable pool until one of the plugin's events
// happens (or the pool's periodic flush). Plugins without it are assumed
// to care about every event.
type EnqueueExtensions interface {
	EventsToRegister() []ClusterEvent
}
