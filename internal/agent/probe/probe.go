// Package probe runs container probes (exec, httpGet, tcpSocket, grpc) and
// lifecycle hooks (postStart, preStop) for the node agent, and schedules
// liveness, readiness and startup probes per container the way the kubelet's
// prober does.
//
// A Prober runs one probe or hook. A Manager runs a goroutine per probe of
// each started container:
//
//	m := probe.NewManager(&probe.Prober{Exec: rt}, func(u probe.Update) { … })
//	m.Start(pod, &pod.Spec.Containers[0], containerID, startedAt)
//	ready := m.Result(pod.UID, "app", probe.Readiness) == probe.Success
//	m.Stop(pod.UID, "app")
//
// The kubelet's rules apply: readiness is Failure until a probe succeeds,
// liveness is Success until it fails, startup is Unknown until it succeeds;
// liveness and readiness wait for the startup probe; a result changes only
// after failureThreshold (successThreshold) equal results in a row; a failed
// liveness or startup probe stops probing that container until it is started
// again (a new Start with a new container ID); probe errors — a probe that
// could not run, as opposed to one that failed — are dropped.
package probe

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"skiff.dev/internal/version"
)

// Result is the outcome of one probe.
type Result int

// Probe results.
const (
	Unknown Result = iota
	Success
	Failure
)

// String names the result: Success, Failure or Unknown.
func (r Result) String() string {
	switch r {
	case Success:
		return "Success"
	case Failure:
		return "Failure"
	}
	return "Unknown"
}

// Kind names a probe's role.
type Kind string

// Probe kinds.
const (
	Liveness  Kind = "Liveness"
	Readiness Kind = "Readiness"
	Startup   Kind = "Startup"
)

// Execer runs a command in a container (runtime.Runtime satisfies it).
type Execer interface {
	ExecSync(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (stdout []byte, stderr []byte, err error)
}

// Prober runs single probes and hooks.
type Prober struct {
	Exec Execer
}

// Probe runs p once against the container. Output is the message the agent
// puts in the Unhealthy event (for example `Get "http://…": connection
// refused` or the exec output).
//
// A probe that ran and failed is (Failure, message, nil); an error means the
// probe could not run at all (no port of that name, no Execer…), and the
// kubelet ignores such a result.
func (p *Prober) Probe(ctx context.Context, pod *corev1.Pod, c *corev1.Container, containerID string, probe *corev1.Probe) (Result, string, error) {
	return p.run(ctx, pod, c, containerID, probe, timeoutOf(probe, time.Second))
}

// run is Probe with the timeout already computed.
func (p *Prober) run(ctx context.Context, pod *corev1.Pod, c *corev1.Container, containerID string, probe *corev1.Probe, timeout time.Duration) (Result, string, error) {
	h := &probe.ProbeHandler
	switch {
	case h.Exec != nil:
		return p.exec(ctx, containerID, h.Exec.Command, timeout)
	case h.HTTPGet != nil:
		return httpProbe(ctx, pod, c, h.HTTPGet, timeout)
	case h.TCPSocket != nil:
		return tcpProbe(ctx, pod, c, h.TCPSocket, timeout)
	case h.GRPC != nil:
		return grpcProbe(ctx, pod, h.GRPC, timeout)
	}
	return Unknown, "", fmt.Errorf("probe: container %q: probe has no handler", c.Name)
}

// timeoutOf is the probe's timeoutSeconds (default 1) in units of unit.
func timeoutOf(p *corev1.Probe, unit time.Duration) time.Duration {
	return time.Duration(orDefault(p.TimeoutSeconds, 1)) * unit
}

func orDefault(v, def int32) int32 {
	if v <= 0 {
		return def
	}
	return v
}

// podIP is the address probes and hooks use when the handler names no host.
func podIP(pod *corev1.Pod) string {
	if pod.Status.PodIP != "" {
		return pod.Status.PodIP
	}
	return "127.0.0.1"
}

// resolvePort turns a handler's port (a number, or the name of one of the
// container's ports) into a port number.
func resolvePort(port intstr.IntOrString, c *corev1.Container) (int, error) {
	n := -1
	switch port.Type {
	case intstr.Int:
		n = port.IntValue()
	case intstr.String:
		found := false
		for _, p := range c.Ports {
			if p.Name == port.StrVal {
				n, found = int(p.ContainerPort), true
				break
			}
		}
		if !found {
			return 0, fmt.Errorf("probe: port %s not found in container %q", port.StrVal, c.Name)
		}
	}
	if n <= 0 || n > 65535 {
		return 0, fmt.Errorf("probe: invalid port number: %d", n)
	}
	return n, nil
}

// userAgent is what the kubelet sends: kube-probe/1.34, kube-lifecycle/1.34.
func userAgent(purpose string) string {
	v := version.Info()
	return "kube-" + purpose + "/" + v.Major + "." + v.Minor
}

// podDesc names a pod the way kubelet messages do: name_namespace(uid).
func podDesc(pod *corev1.Pod) string {
	return fmt.Sprintf("%s_%s(%s)", pod.Name, pod.Namespace, pod.UID)
}

// Update reports a change of a probe's result.
type Update struct {
	PodUID      types.UID
	Container   string
	ContainerID string
	Kind        Kind
	Result      Result
	Output      string
}
