// Package sim is a container runtime without containers, for hollow nodes:
// scale tests that run thousands of nodes and pods in one process. It
// implements skiff.dev/internal/runtime.Runtime in memory. Nothing runs: a
// sandbox is ready as soon as it is created, and a container runs as soon as
// it is started, for as long as it is told to.
//
// # Telling a container how to end
//
// By default a started container runs until it is stopped (it then exits
// with code 0, reason Completed). Two annotations change that:
//
//	sim.skiff.dev/exit-code: "3"    exit with this code (0 gives Completed, others Error)
//	sim.skiff.dev/run-for:   "2s"   after running this long (a Go duration)
//
// exit-code alone exits at once; run-for alone exits with code 0. The
// annotations are looked up, for a container named NAME, in order:
//
//  1. the container's own annotations (ContainerConfig.Annotations);
//  2. the pod's annotations, under the key with ".NAME" appended
//     (sim.skiff.dev/exit-code.NAME), for one container of a pod;
//  3. the pod's annotations (PodSandboxConfig.Annotations), for all of them.
//
// Pod annotations reach the runtime through the sandbox config, as the
// kubelet passes them, so a pod manifest can script its hollow containers:
// for example, an init container "setup" that completes after a second
// takes the pod annotation sim.skiff.dev/run-for.setup: "1s".
//
// # Other behaviour
//
// Times are taken from Options.Clock, so tests can move them. ExecSync of a
// running container succeeds with no output; Exec, Attach and PortForward
// return Unimplemented. Sandboxes report Options.HostIP, or, when
// Options.PodCIDR is set, an address of their own from it. State lives in
// memory only: a new Runtime starts empty. A container costs a few hundred
// bytes plus its labels and annotations, so one process holds hundreds of
// thousands.
package sim
