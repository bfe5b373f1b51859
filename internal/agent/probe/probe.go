// Package probe runs container probes (exec, httpGet, tcpSocket, grpc) and
// lifecycle hooks (postStart, preStop) for the node agent, and schedules
// liveness, readiness and startup probes per container the way the kubelet's
// prober does.
package probe

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Result is the outcome of one probe.
type Result int

// Probe results.
const (
	Unknown Result = iota
	Success
	Failure
)

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
func (p *Prober) Probe(ctx context.Context, pod *corev1.Pod, c *corev1.Container, containerID string, probe *corev1.Probe) (Result, string, error) {
	return Unknown, "", errors.New("probe: not implemented yet")
}

// RunHook runs a postStart or preStop handler (exec, httpGet, sleep).
func (p *Prober) RunHook(ctx context.Context, pod *corev1.Pod, c *corev1.Container, containerID string, h *corev1.LifecycleHandler) (string, error) {
	return "", errors.New("probe: not implemented yet")
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

// Manager runs the periodic probes of running containers.
type Manager struct{}

// NewManager returns a Manager that reports every result change to onChange.
func NewManager(p *Prober, onChange func(Update)) *Manager {
	return &Manager{}
}

// Start begins probing container c of pod (started at startedAt) with the
// probes it declares; readiness and liveness wait until startup succeeded.
func (m *Manager) Start(pod *corev1.Pod, c *corev1.Container, containerID string, startedAt time.Time) {
}

// Stop ends the probes of one container.
func (m *Manager) Stop(podUID types.UID, container string) {}

// Result is the last result of a probe kind for the container; a container
// without that probe reports Success.
func (m *Manager) Result(podUID types.UID, container string, kind Kind) Result {
	return Unknown
}
