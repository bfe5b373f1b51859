package scheduler

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"skiff.dev/internal/scheduler/cache"
	"skiff.dev/internal/scheduler/framework"
)

// errNoNodesAvailable is upstream's error when the cluster has no nodes.
var errNoNodesAvailable = errors.New("no nodes available to schedule pods")

// Upstream's bounds on how many feasible nodes a cycle looks for.
const (
	minFeasibleNodesToFind           = 100
	minFeasibleNodesPercentageToFind = 5
)

// parallelFilterMin is the number of nodes from which filtering fans out
// over goroutines; below it one goroutine is faster than starting more.
const parallelFilterMin = 256

// algorithm picks a node for one pod from a snapshot: the decision part of
// a cycle, with no IO. One scheduling loop uses it at a time.
type algorithm struct {
	fw          *framework.Framework
	percentage  int32
	parallelism int
	// nextStart rotates where filtering starts, so that when a cycle stops
	// early the next one looks at other nodes first.
	nextStart int
	rand      *rand.Rand
	// Buffers reused from cycle to cycle.
	totals   []int64
	feasible []*framework.NodeInfo
	parts    []filterPart
}

func newAlgorithm(fw *framework.Framework, percentage int32, parallelism int) *algorithm {
	return &algorithm{fw: fw, percentage: percentage, parallelism: max(parallelism, 1),
		rand: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))}
}

// scheduleResult is the node chosen and how many nodes were looked at.
type scheduleResult struct {
	node                string
	evaluated, feasible int
}

// schedule runs PreFilter, Filter, PreScore and Score, and picks the node
// with the highest score. When no node fits it returns a *FitError.
func (a *algorithm) schedule(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, snap *cache.Snapshot) (scheduleResult, error) {
	nodes := snap.List()
	if len(nodes) == 0 {
		return scheduleResult{}, errNoNodesAvailable
	}
	var diag framework.Diagnosis
	if s := a.fw.RunPreFilter(ctx, state, pod); !s.IsSuccess() {
		if !s.IsRejected() {
			return scheduleResult{}, s.AsError()
		}
		diag.PreFilterStatus = s
		diag.UnschedulablePlugins = map[string]bool{s.Plugin(): true}
		return scheduleResult{}, a.fitError(ctx, state, pod, nodes, diag)
	}
	feasible, err := a.filter(ctx, state, pod, nodes, &diag)
	if err != nil {
		return scheduleResult{}, err
	}
	res := scheduleResult{evaluated: len(feasible) + len(diag.NodeToStatus), feasible: len(feasible)}
	switch len(feasible) {
	case 0:
		return res, a.fitError(ctx, state, pod, nodes, diag)
	case 1:
		res.node = feasible[0].Name()
		return res, nil
	}
	if s := a.fw.RunPreScore(ctx, state, pod, feasible); !s.IsSuccess() {
		return res, s.AsError()
	}
	if cap(a.totals) < len(feasible) {
		a.totals = make([]int64, len(feasible))
	}
	a.totals = a.totals[:len(feasible)]
	clear(a.totals)
	if s := a.fw.RunScore(ctx, state, pod, feasible, a.totals); !s.IsSuccess() {
		return res, s.AsError()
	}
	res.node = feasible[a.selectHost(a.totals)].Name()
	return res, nil
}

// fitError is the error of a pod that fits none of nodes, ending with
// what preemption would do.
func (a *algorithm) fitError(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, nodes []*framework.NodeInfo, diag framework.Diagnosis) error {
	diag.PreemptionMsg = a.fw.PreemptionMessage(ctx, state, pod, nodes, &diag)
	return &framework.FitError{Pod: pod.Pod, NumAllNodes: len(nodes), Diagnosis: diag}
}

// selectHost returns the index of the highest total, choosing uniformly
// among ties.
func (a *algorithm) selectHost(totals []int64) int {
	best, ties := 0, 1
	for i := 1; i < len(totals); i++ {
		switch {
		case totals[i] > totals[best]:
			best, ties = i, 1
		case totals[i] == totals[best]:
			ties++
			if a.rand.IntN(ties) == 0 {
				best = i
			}
		}
	}
	return best
}

// numFeasibleNodesToFind is how many feasible nodes are enough to stop
// filtering, as upstream computes it.
func (a *algorithm) numFeasibleNodesToFind(all int) int {
	if all < minFeasibleNodesToFind || a.percentage >= 100 {
		return all
	}
	p := int(a.percentage)
	if p == 0 {
		p = max(50-all/125, minFeasibleNodesPercentageToFind)
	}
	return max(all*p/100, minFeasibleNodesToFind)
}

// filter runs the filters over the nodes, starting after where the last
// cycle stopped, until enough feasible nodes are found. Rejections go into
// diag. The slice returned is valid until the next cycle.
func (a *algorithm) filter(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, nodes []*framework.NodeInfo, diag *framework.Diagnosis) ([]*framework.NodeInfo, error) {
	want := a.numFeasibleNodesToFind(len(nodes))
	workers := a.parallelism
	if len(nodes) < parallelFilterMin {
		workers = 1
	}
	if len(a.parts) < workers {
		a.parts = make([]filterPart, workers)
	}
	parts := a.parts[:workers]
	for i := range parts {
		clear(parts[i].feasible) // let go of the last cycle's snapshot
		clear(parts[i].rejected)
		parts[i] = filterPart{feasible: parts[i].feasible[:0], rejected: parts[i].rejected[:0]}
	}
	clear(a.feasible)
	var found, next atomic.Int64
	chunk := int64(max(len(nodes)/(workers*4), 16))
	run := func(p *filterPart) {
		for {
			start := next.Add(chunk) - chunk
			if start >= int64(len(nodes)) {
				return
			}
			for i := start; i < min(start+chunk, int64(len(nodes))); i++ {
				if found.Load() >= int64(want) {
					return
				}
				n := nodes[(a.nextStart+int(i))%len(nodes)]
				s := a.fw.RunFilter(ctx, state, pod, n)
				p.processed++
				switch {
				case s.IsSuccess():
					if found.Add(1) > int64(want) {
						p.processed--
						return
					}
					p.feasible = append(p.feasible, n)
				case s.IsRejected():
					p.rejected = append(p.rejected, nodeStatus{n.Name(), s})
				default:
					p.err = s.AsError()
					found.Store(int64(want)) // stop everyone
					return
				}
			}
		}
	}
	if workers == 1 {
		run(&parts[0])
	} else {
		var wg sync.WaitGroup
		for i := range parts {
			wg.Go(func() { run(&parts[i]) })
		}
		wg.Wait()
	}
	feasible := a.feasible[:0]
	processed := 0
	for _, p := range parts {
		if p.err != nil {
			return nil, p.err
		}
		feasible = append(feasible, p.feasible...)
		for _, r := range p.rejected {
			if diag.NodeToStatus == nil {
				diag.NodeToStatus = map[string]*framework.Status{}
				diag.UnschedulablePlugins = map[string]bool{}
			}
			diag.NodeToStatus[r.node] = r.status
			diag.UnschedulablePlugins[r.status.Plugin()] = true
		}
		processed += p.processed
	}
	a.feasible = feasible
	a.nextStart = (a.nextStart + processed) % len(nodes)
	return feasible, nil
}

// filterPart is what one filtering goroutine found.
type filterPart struct {
	feasible  []*framework.NodeInfo
	rejected  []nodeStatus
	processed int
	err       error
}

type nodeStatus struct {
	node   string
	status *framework.Status
}
