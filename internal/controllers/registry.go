package controllers

import (
	"skiff.dev/internal/controllers/cronjob"
	"skiff.dev/internal/controllers/daemonset"
	"skiff.dev/internal/controllers/deployment"
	"skiff.dev/internal/controllers/disruption"
	"skiff.dev/internal/controllers/garbagecollector"
	"skiff.dev/internal/controllers/job"
	"skiff.dev/internal/controllers/manager"
	"skiff.dev/internal/controllers/namespace"
	"skiff.dev/internal/controllers/nodeipam"
	"skiff.dev/internal/controllers/nodelifecycle"
	"skiff.dev/internal/controllers/podgc"
	"skiff.dev/internal/controllers/replicaset"
	"skiff.dev/internal/controllers/serviceaccount"
	"skiff.dev/internal/controllers/statefulset"
	"skiff.dev/internal/controllers/taintevict"
	"skiff.dev/internal/controllers/ttlafterfinished"
)

// All lists every control loop, in the order they start.
func All() []manager.Entry { return append([]manager.Entry(nil), registry...) }

var registry = []manager.Entry{
	{Name: namespace.Name, New: namespace.New},
	{Name: garbagecollector.Name, New: garbagecollector.New},
	{Name: serviceaccount.Name, New: serviceaccount.New},
	{Name: podgc.Name, New: podgc.New},
	{Name: replicaset.Name, New: replicaset.New},
	{Name: deployment.Name, New: deployment.New},
	{Name: statefulset.Name, New: statefulset.New},
	{Name: daemonset.Name, New: daemonset.New},
	{Name: job.Name, New: job.New},
	{Name: cronjob.Name, New: cronjob.New},
	{Name: ttlafterfinished.Name, New: ttlafterfinished.New},
	{Name: nodeipam.Name, New: nodeipam.New},
	{Name: nodelifecycle.Name, New: nodelifecycle.New},
	{Name: taintevict.Name, New: taintevict.New},
	{Name: disruption.Name, New: disruption.New},
}

// Names lists the control loops' names.
func Names() []string {
	out := make([]string, len(registry))
	for i, e := range registry {
		out[i] = e.Name
	}
	return out
}
