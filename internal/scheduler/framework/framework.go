package framework

import (
	"context"
	"fmt"
	"sync"
)

// maxPlugins is how many plugins one extension point may have: the skip
// sets of a CycleState are bits of a uint64.
const maxPlugins = 64

// Framework runs a list of plugins at each extension point, in the order
// they were given. It is built once and used by one scheduling cycle at a
// time (Filter may fan out over nodes within that cycle).
type Framework struct {
	preFilters []PreFilterPlugin
	filters    []FilterPlugin
	preScores  []PreScorePlugin
	scores     []weightedScore
	// filterOf and scoreOf map a PreFilter or PreScore plugin to the index
	// of the same plugin's Filter or Score, or -1.
	filterOf, scoreOf []int
	events            map[string][]ClusterEvent
	buffers           sync.Pool // of *[]int64, for per-plugin scores
}

type weightedScore struct {
	ScorePlugin
	weight     int64
	normalizer ScoreNormalizer
}

// New builds a framework from plugins in the order their extension points
// run. weights gives each Score plugin's weight; a missing weight is 1.
func New(plugins []Plugin, weights map[string]int64) (*Framework, error) {
	f := &Framework{events: map[string][]ClusterEvent{}}
	seen := map[string]bool{}
	for _, p := range plugins {
		name := p.Name()
		if seen[name] {
			return nil, fmt.Errorf("framework: plugin %q listed twice", name)
		}
		seen[name] = true
		if pl, ok := p.(PreFilterPlugin); ok {
			f.preFilters = append(f.preFilters, pl)
		}
		if pl, ok := p.(FilterPlugin); ok {
			f.filters = append(f.filters, pl)
		}
		if pl, ok := p.(PreScorePlugin); ok {
			f.preScores = append(f.preScores, pl)
		}
		if pl, ok := p.(ScorePlugin); ok {
			w, ok := weights[name]
			if !ok {
				w = 1
			}
			if w <= 0 {
				return nil, fmt.Errorf("framework: score plugin %q has weight %d, want > 0", name, w)
			}
			n, _ := p.(ScoreNormalizer)
			f.scores = append(f.scores, weightedScore{ScorePlugin: pl, weight: w, normalizer: n})
		}
		if pl, ok := p.(EnqueueExtensions); ok {
			f.events[name] = pl.EventsToRegister()
		}
	}
	if len(f.filters) > maxPlugins || len(f.scores) > maxPlugins {
		return nil, fmt.Errorf("framework: more than %d plugins at one extension point", maxPlugins)
	}
	for _, pl := range f.preFilters {
		f.filterOf = append(f.filterOf, indexOf(f.filters, pl.Name()))
	}
	for _, pl := range f.preScores {
		f.scoreOf = append(f.scoreOf, indexOf(f.scores, pl.Name()))
	}
	return f, nil
}

func indexOf[P Plugin](list []P, name string) int {
	for i, p := range list {
		if p.Name() == name {
			return i
		}
	}
	return -1
}

// HasScorePlugins reports whether there is anything to rank nodes with.
func (f *Framework) HasScorePlugins() bool { return len(f.scores) > 0 }

// RunPreFilter runs the PreFilter plugins, stopping at the first that does
// not succeed. Plugins that answer Skip are left out of RunFilter.
func (f *Framework) RunPreFilter(ctx context.Context, state *CycleState, pod *PodInfo) *Status {
	for i, pl := range f.preFilters {
		s := pl.PreFilter(ctx, state, pod)
		switch {
		case s.IsSkip():
			if j := f.filterOf[i]; j >= 0 {
				state.skipFilter |= 1 << j
			}
		case !s.IsSuccess():
			if s.Code() != Error && !s.IsRejected() {
				s = NewStatus(Error, s.Reasons()...)
			}
			return s.WithPlugin(pl.Name())
		}
	}
	return nil
}

// RunFilter runs the Filter plugins for one node, stopping at the first
// that rejects it; the status names that plugin. Safe for concurrent use
// on different nodes.
func (f *Framework) RunFilter(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) *Status {
	for i, pl := range f.filters {
		if state.skipFilter&(1<<i) != 0 {
			continue
		}
		if s := pl.Filter(ctx, state, pod, node); !s.IsSuccess() {
			return s.WithPlugin(pl.Name())
		}
	}
	return nil
}

// RunPreScore runs the PreScore plugins over the feasible nodes. Plugins
// that answer Skip are left out of RunScore.
func (f *Framework) RunPreScore(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo) *Status {
	for i, pl := range f.preScores {
		s := pl.PreScore(ctx, state, pod, nodes)
		switch {
		case s.IsSkip():
			if j := f.scoreOf[i]; j >= 0 {
				state.skipScore |= 1 << j
			}
		case !s.IsSuccess():
			return s.WithPlugin(pl.Name())
		}
	}
	return nil
}

// RunScore scores the nodes with every Score plugin not skipped, normalizes
// each plugin's scores, weighs them, and adds them into totals, which is
// aligned with nodes.
func (f *Framework) RunScore(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo, totals []int64) *Status {
	buf := f.buffer(len(nodes))
	defer f.buffers.Put(buf)
	scores := *buf
	for i, pl := range f.scores {
		if state.skipScore&(1<<i) != 0 {
			continue
		}
		for j, n := range nodes {
			v, s := pl.Score(ctx, state, pod, n)
			if !s.IsSuccess() {
				return s.WithPlugin(pl.Name())
			}
			scores[j] = v
		}
		if pl.normalizer != nil {
			if s := pl.normalizer.NormalizeScore(ctx, state, pod, scores); !s.IsSuccess() {
				return s.WithPlugin(pl.Name())
			}
		}
		for j, v := range scores {
			if v < MinNodeScore || v > MaxNodeScore {
				return NewStatus(Error, fmt.Sprintf("plugin %q scored node %q %d, out of [%d, %d]",
					pl.Name(), nodes[j].Name(), v, MinNodeScore, MaxNodeScore)).WithPlugin(pl.Name())
			}
			totals[j] += v * pl.weight
		}
	}
	return nil
}

func (f *Framework) buffer(n int) *[]int64 {
	buf, _ := f.buffers.Get().(*[]int64)
	if buf == nil || cap(*buf) < n {
		b := make([]int64, n)
		return &b
	}
	*buf = (*buf)[:n]
	return buf
}

// Interested reports whether an event could help a pod that the named
// plugins rejected. A pod no plugin rejected (it failed for another
// reason) and plugins that registered no events are interested in all.
func (f *Framework) Interested(ev ClusterEvent, plugins map[string]bool) bool {
	if len(plugins) == 0 {
		return true
	}
	for name := range plugins {
		events, ok := f.events[name]
		if !ok {
			return true
		}
		for _, e := range events {
			if e.Matches(ev) {
				return true
			}
		}
	}
	return false
}
