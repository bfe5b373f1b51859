package plugins_test

import (
	"testing"

	"skiff.dev/internal/scheduler/plugins"
)

// TestRegistry: every plugin is listed once, in upstream's filter order,
// with upstream's weights, and the framework builds.
func TestRegistry(t *testing.T) {
	want := []struct {
		name   string
		weight int64
	}{
		{"NodeUnschedulable", 0}, {"NodeName", 0}, {"TaintToleration", 3}, {"NodeAffinity", 2},
		{"NodePorts", 0}, {"NodeResourcesFit", 1}, {"NodeResourcesBalancedAllocation", 1},
	}
	reg := plugins.Registry()
	if len(reg) != len(want) {
		t.Fatalf("%d plugins, want %d", len(reg), len(want))
	}
	for i, e := range reg {
		if e.Name != want[i].name || e.Weight != want[i].weight {
			t.Errorf("entry %d: %s weight %d, want %s weight %d", i, e.Name, e.Weight, want[i].name, want[i].weight)
		}
		p, err := e.New()
		if err != nil || p.Name() != e.Name {
			t.Errorf("%s: New gave %v, %v", e.Name, p, err)
		}
	}
	if _, err := plugins.NewFramework("NodePorts"); err != nil {
		t.Errorf("disabling NodePorts: %v", err)
	}
	if _, err := plugins.NewFramework("NoSuchPlugin"); err == nil {
		t.Error("disabling an unknown plugin was accepted")
	}
}
