// Package plugins is the registry of the scheduler's plugins: every plugin
// skiff has, in the order its extension points run, with its score weight.
// The plugins themselves live in one package each below this one.
package plugins

import (
	"fmt"

	"skiff.dev/internal/scheduler/framework"
	"skiff.dev/internal/scheduler/plugins/nodeaffinity"
	"skiff.dev/internal/scheduler/plugins/nodename"
	"skiff.dev/internal/scheduler/plugins/nodeports"
	"skiff.dev/internal/scheduler/plugins/noderesources"
	"skiff.dev/internal/scheduler/plugins/nodeunschedulable"
	"skiff.dev/internal/scheduler/plugins/tainttoleration"
)

// Entry is one plugin in the registry.
type Entry struct {
	Name string
	// Weight multiplies the plugin's scores; 0 for plugins that do not
	// score.
	Weight int64
	New    func() (framework.Plugin, error)
}

func plain[P framework.Plugin](newP func() P) func() (framework.Plugin, error) {
	return func() (framework.Plugin, error) { return newP(), nil }
}

// Registry lists every plugin, in upstream's default order and with its
// default weights. Filters run in this order and a node's first rejection
// is the reason it reports, so the order shows in FailedScheduling
// messages.
func Registry() []Entry {
	return []Entry{
		{nodeunschedulable.Name, 0, plain(nodeunschedulable.New)},
		{nodename.Name, 0, plain(nodename.New)},
		{tainttoleration.Name, 3, plain(tainttoleration.New)},
		{nodeaffinity.Name, 2, plain(nodeaffinity.New)},
		{nodeports.Name, 0, plain(nodeports.New)},
		{noderesources.FitName, 1, func() (framework.Plugin, error) {
			return noderesources.NewFit(noderesources.DefaultFitArgs())
		}},
		{noderesources.BalancedAllocationName, 1, func() (framework.Plugin, error) {
			return noderesources.NewBalancedAllocation()
		}},
	}
}

// NewFramework builds a framework from the registry, leaving out the
// plugins named in disabled.
func NewFramework(disabled ...string) (*framework.Framework, error) {
	off := map[string]bool{}
	for _, name := range disabled {
		off[name] = true
	}
	var list []framework.Plugin
	weights := map[string]int64{}
	for _, e := range Registry() {
		if off[e.Name] {
			delete(off, e.Name)
			continue
		}
		p, err := e.New()
		if err != nil {
			return nil, fmt.Errorf("plugins: %s: %w", e.Name, err)
		}
		list = append(list, p)
		if e.Weight > 0 {
			weights[e.Name] = e.Weight
		}
	}
	for name := range off {
		return nil, fmt.Errorf("plugins: no plugin %q to disable", name)
	}
	return framework.New(list, weights)
}
