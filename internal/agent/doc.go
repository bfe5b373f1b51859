// Package agent is skiff's node agent, the kubelet's role: it registers a
// Node, keeps its Lease and status fresh, and runs the pods bound to the
// node on a container runtime (skiff.dev/internal/runtime).
//
// # Driving it
//
//	a, err := agent.New(agent.Options{
//		Config:   cfg,             // the node's credentials
//		NodeName: "node-1",
//		DataDir:  "/var/lib/skiff/agent",
//		Runtime:  rt,              // process, sim or the CRI client
//	})
//	if err != nil { … }
//	go a.Run(ctx)                  // until ctx ends
//
// The agent's HTTPS API (skiff.dev/internal/agent/server) finds containers
// through Agent.Container and Agent.Sandbox. Several agents can run in one
// process (hollow nodes), each with its own runtime: they share nothing.
//
// # How it works
//
// One informer, filtered by spec.nodeName, brings the node's pods; the
// static source brings pods from manifest files (StaticPodDir) and keeps a
// mirror pod in the API for each. Every pod gets a worker, a goroutine that
// syncs it when its spec changes, when its containers change in the
// runtime, when a probe result changes, or when a timer (back-off, resync)
// fires. A relist of the runtime every second, like the kubelet's PLEG,
// notices container exits.
//
// A sync is decision, then IO. The decisions are pure functions of the pod
// spec and what the runtime reports:
//
//   - decide (plan.go): which containers to kill and start, whether the
//     sandbox must be (re)created, whether the pod is done — the kubelet's
//     computePodActions, with init containers run in order and sidecars
//     kept running;
//   - backoffPolicy (backoff.go): crash-loop back-off, 10 s doubling to
//     5 min, reset after a long run;
//   - podStatus (podstatus.go, containerstatus.go, conditions.go, phase.go):
//     phase, conditions and container statuses, with the kubelet's reasons
//     and messages;
//   - nodeStatus (nodestatus.go): the Node's conditions from host readings.
//
// The worker carries a plan out (sync, start and kill files), writes the
// status through pods/status when it changed, and at the end of a graceful
// deletion deletes the pod with a zero grace period.
//
// On start the agent adopts what the runtime already runs for its pods
// (containers are found by their io.kubernetes.* labels), and stops and
// removes what belongs to no pod: restarting the agent restarts no
// container.
package agent
