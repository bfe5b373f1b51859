// Package scheduler is skiff's kube-scheduler: it watches pods that name it
// in spec.schedulerName and have no spec.nodeName, picks a node for each,
// and binds the pod there through the pods/binding subresource.
//
// Driving it takes a client configuration and a context:
//
//	s, err := scheduler.New(scheduler.Options{Config: restConfig, Log: log})
//	if err != nil { … }
//	err = s.Run(ctx) // until ctx ends
//
// Inside, the parts are upstream's:
//
//   - informers feed a cache of nodes and the pods on them (package cache)
//     and a queue of pending pods (package queue);
//   - the scheduling loop pops one pod at a time, takes a snapshot of the
//     cache, and runs the plugins (package framework; the plugins are
//     listed in package plugins): PreFilter, Filter over the nodes (in
//     parallel, and stopping once enough feasible nodes are found when
//     there are many: upstream's adaptive percentageOfNodesToScore),
//     PreScore and Score; the node with the highest weighted score wins,
//     ties broken at random;
//   - the pod is assumed onto that node in the cache at once, so the next
//     pod already sees it there, and a pool of workers binds it with a POST
//     of a v1 Binding while the loop goes on; a failed binding forgets the
//     assumed pod and queues it again;
//   - a pod no node fits gets a Warning event, reason FailedScheduling,
//     and the condition PodScheduled=False, reason Unschedulable, and
//     waits in the queue's unschedulable pool, with back-off between
//     attempts, until a node or pod event that could help it.
//
// The event and the condition carry upstream's message:
//
//	0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint(s). preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.
//
// skiff does not preempt, but the message's preemption part is worked out
// node by node as upstream's DefaultPreemption does before it picks
// victims (framework.PreemptionMessage): "Preemption is not helpful for
// scheduling" where the filters' rejection was unresolvable, "No
// preemption victims found for incoming pod" where no pod has a lower
// priority than the pod, and otherwise the filters' reasons. Where
// evicting lower-priority pods would make room, upstream would preempt;
// skiff keeps the node's reasons, which stay true since nothing is
// evicted. Pods with preemptionPolicy: Never get upstream's "not
// eligible" form.
// Upstream v1.34 with dynamic resource allocation on also writes "no new
// claims to deallocate, " before "preemption:"; skiff has no resource
// claims and leaves it out.
//
// A bound pod gets a Normal event, reason Scheduled: "Successfully
// assigned ns/pod to node".
package scheduler
