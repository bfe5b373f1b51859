// Package process is a container runtime whose containers are host
// processes. It implements skiff.dev/internal/runtime.Runtime for machines
// without a container runtime: no images, no network namespaces (every pod
// uses the host's network and reports Options.HostIP), but real process
// lifecycles, CRI logs, exit codes, and — when run as root — cgroup limits
// and volumes.
//
// # Driving it
//
//	rt, err := process.New(process.Options{Dir: "/var/lib/skiff/process", HostIP: "10.0.0.5"})
//	sb, err := rt.RunPodSandbox(ctx, &runtimeapi.PodSandboxConfig{Metadata: ..., LogDirectory: "/var/log/pods/..."}, "")
//	id, err := rt.CreateContainer(ctx, sb, &runtimeapi.ContainerConfig{
//		Metadata: &runtimeapi.ContainerMetadata{Name: "web"},
//		Command:  []string{"python3", "-m", "http.server"},
//		LogPath:  "web/0.log",
//	}, sandboxConfig)
//	err = rt.StartContainer(ctx, id)
//
// A container must have a command (ContainerConfig.Command and Args): the
// image is recorded but never used. The binary that embeds the runtime must
// dispatch its helper mode first thing in main (see HelperMode and
// SupervisorMain); cmd/skiff does so in reexec.go, and this package's tests
// in TestMain.
//
// # Processes
//
// Two kinds of process take part, besides the containers' own:
//
//   - the Runtime, in the agent: it keeps the records, creates cgroups,
//     checks what it is asked against what it can do, and runs the
//     streaming server;
//   - one supervisor per state directory (the skiff binary re-executed in
//     helper mode "supervisor", in a session of its own): the parent of
//     every container process, like containerd is one daemon for all
//     containers.
//
// The supervisor starts a container's command itself, with no helper
// process in between: a thread of its own, used once, enters the
// container's mount namespace (binding its volumes) and cgroups, and forks
// the command, which so runs within its limits and with its volumes from
// its first instruction, as the container's user, in its working
// directory, leading a session of its own (spawn.go). Starting a container
// so costs a fork and an exec of the command, not the start-up of another
// skiff process.
//
// The first StartContainer starts the supervisor if none runs, and a
// Runtime that finds one running connects to it. The supervisor copies each
// container's stdout and stderr into its CRI log (rotating it), serves
// attach, records exits in state.json (the exit code, the time, and
// OOMKilled from the memory cgroup's kill count), kills what a container
// leaves in its process group and cgroups when its main process ends, and,
// as a child subreaper with a single wait4 loop, reaps every orphan. It
// costs one process of the skiff binary (about 10 MB of private memory,
// most of it the tables every package's init builds) plus some 20 KB per
// running container, where a process per container would cost 10 MB each.
//
// The Runtime talks to the supervisor over <Dir>/supervisor.sock, one
// connection per request: start, signal, attach, and a session that the
// Runtime holds while it is open (protocol.go). Container states are not
// asked over the socket but read from state.json, which the supervisor
// writes and which outlives it.
//
// # What survives what
//
// The agent exiting: nothing stops. The supervisor does not depend on the
// agent; a new Runtime on the same directory finds every sandbox and
// container again, with the exit codes of those that ended meanwhile, and
// connects to the same supervisor. The supervisor itself exits when it is
// left with no running container and no Runtime: at once when the last
// Runtime closes (Close returns after it has gone), a second after the last
// container ends or the last Runtime's process exits otherwise.
//
// The supervisor dying (kill -9): its containers are reparented and run on.
// They are reported running while their process lives (checked by pid,
// start time and boot id) and, once it has ended, exited with code 255 and
// a message saying the exit status was lost. Their output is no longer
// captured: the pipes' reading ends died with the supervisor, so a write
// to stdout or stderr fails with EPIPE (and SIGPIPE ends a program that
// does not ignore it); a tty container's terminal hangs up. They cannot be
// attached to; StopContainer signals them directly. The next
// StartContainer starts a new supervisor, which never starts a container
// that has a state file: nothing runs twice.
//
// A reboot: records of an earlier boot describe nothing that runs; their
// containers are reported exited, lost.
//
// # Exec, attach, port-forward
//
// New starts the kubelet's streaming server (k8s.io/kubelet/pkg/cri/streaming)
// on Options.StreamAddr, a loopback port by default; Exec, Attach and
// PortForward return URLs on it, below StreamURL, for the agent to proxy
// to. Exec runs the command, a child of the agent, as the supervisor starts
// a container's (the container's cgroups, mount namespace, environment,
// user and working directory), with a pty when asked; Attach goes through
// the supervisor;
// PortForward dials 127.0.0.1:<port>, since pods share the host's network.
// Close stops the server and ends the Runtime's session with the
// supervisor (which exits if nothing is left for it), and nothing else.
//
// # State on disk
//
//	<Dir>/supervisor.sock                 the supervisor's socket (owner only)
//	<Dir>/supervisor.lock                 flocked by the running supervisor
//	<Dir>/supervisor.log                  the supervisor's own errors
//	<Dir>/sandboxes/<id>/sandbox.json     the sandbox record (metadata, labels, ready, cgroups)
//	<Dir>/containers/<id>/container.json  the container record (command, env, mounts, limits, log path)
//	<Dir>/containers/<id>/state.json      written by the supervisor: its pid, the container's pid,
//	                                      start, finish, exit code, reason
//
// Cgroups (root only, cgroup v1): <controller>/<own cgroup>/<CgroupParent>/pod-<sandbox id>/<container id>
// for the memory, cpu and pids controllers.
//
// One Runtime at a time should own a directory: two would each keep their
// own view of what was created and removed (they would share the one
// supervisor).
//
// # What needs root, and what is refused
//
// As root the runtime applies memory limits (a container over its limit is
// killed and reported OOMKilled), CPU quota, period and shares, a pod pids
// limit, volumes (bind mounts in a private mount namespace), and
// RunAsUser/RunAsGroup/SupplementalGroups. Without root, or on a host
// with only cgroup v2, CreateContainer refuses a container that has a
// memory limit or a CPU limit (quota); without root it also refuses one that
// has volumes or asks for another user. CPU shares, which are only a weight,
// are then dropped. A cpuset or cgroup v2 ("unified") settings are always
// refused. Hugepage limits, mount propagation, SELinux labels, capabilities
// and privileged mode are ignored. A negative OOM score adjustment is never
// applied (it needs CAP_SYS_RESOURCE); positive ones are.
package process
