package controllers

import (
	"skiff.dev/internal/controllers/ctrl"
	"skiff.dev/internal/controllers/garbagecollector"
	"skiff.dev/internal/controllers/namespace"
	"skiff.dev/internal/controllers/podgc"
	"skiff.dev/internal/controllers/serviceaccount"
)

// Entry is one control loop: its name (as in --controllers) and how to
// build it.
type Entry struct {
	Name string
	New  func(*ctrl.Context) (ctrl.Controller, error)
}

// registry lists every control loop, in the order they start.
var registry = []Entry{
	{Name: namespace.Name, New: namespace.New},
	{Name: garbagecollector.Name, New: garbagecollector.New},
	{Name: serviceaccount.Name, New: serviceaccount.New},
	{Name: podgc.Name, New: podgc.New},
}

// Names lists the control loops' names.
func Names() []string {
	out := make([]string, len(registry))
	for i, e := range registry {
		out[i] = e.Name
	}
	return out
}
