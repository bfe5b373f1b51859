package agent

import (
	"slices"
	"strconv"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"skiff.dev/internal/runtime"
)

// podState is what the runtime reports for one pod: its sandboxes and
// containers, newest first. It is the "observed" half of every decision;
// the pod spec is the "desired" half.
type podState struct {
	Sandboxes  []sandboxState   `json:"sandboxes,omitempty"`
	Containers []containerState `json:"containers,omitempty"`
}

// sandboxState is one sandbox of the pod.
type sandboxState struct {
	ID        string    `json:"id"`
	Attempt   uint32    `json:"attempt,omitempty"`
	Ready     bool      `json:"ready,omitempty"`
	IPs       []string  `json:"ips,omitempty"`
	CreatedAt time.Time `json:"createdAt,omitzero"`
}

// containerState is one container instance. Attempt is the restart count
// the agent gave it when it created it.
type containerState struct {
	ID         string                      `json:"id"`
	Name       string                      `json:"name"`
	Attempt    int32                       `json:"attempt,omitempty"`
	State      runtimeapi.ContainerState   `json:"state"`
	CreatedAt  time.Time                   `json:"createdAt,omitzero"`
	StartedAt  time.Time                   `json:"startedAt,omitzero"`
	FinishedAt time.Time                   `json:"finishedAt,omitzero"`
	ExitCode   int32                       `json:"exitCode,omitempty"`
	Reason     string                      `json:"reason,omitempty"`
	Message    string                      `json:"message,omitempty"`
	Image      string                      `json:"image,omitempty"`
	ImageRef   string                      `json:"imageRef,omitempty"`
	Hash       string                      `json:"hash,omitempty"`
	Mounts     []*runtimeapi.Mount         `json:"-"`
	Labels     map[string]string           `json:"-"`
	Sandbox    string                      `json:"sandbox,omitempty"`
	Status     *runtimeapi.ContainerStatus `json:"-"`
}

// Container states, shortened.
const (
	stateCreated = runtimeapi.ContainerState_CONTAINER_CREATED
	stateRunning = runtimeapi.ContainerState_CONTAINER_RUNNING
	stateExited  = runtimeapi.ContainerState_CONTAINER_EXITED
	stateUnknown = runtimeapi.ContainerState_CONTAINER_UNKNOWN
)

// sortNewestFirst orders sandboxes and containers newest first, the order
// every decision reads them in.
func (s *podState) sortNewestFirst() {
	slices.SortStableFunc(s.Sandboxes, func(a, b sandboxState) int {
		if a.Attempt != b.Attempt {
			return int(b.Attempt) - int(a.Attempt)
		}
		return b.CreatedAt.Compare(a.CreatedAt)
	})
	slices.SortStableFunc(s.Containers, func(a, b containerState) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return int(b.Attempt) - int(a.Attempt)
	})
}

// latest is the newest instance of the named container, or nil.
func (s *podState) latest(name string) *containerState {
	if s == nil {
		return nil
	}
	for i := range s.Containers {
		if s.Containers[i].Name == name {
			return &s.Containers[i]
		}
	}
	return nil
}

// latestExited is the newest exited instance of the named container.
func (s *podState) latestExited(name string) *containerState {
	if s == nil {
		return nil
	}
	for i := range s.Containers {
		if c := &s.Containers[i]; c.Name == name && c.State == stateExited {
			return c
		}
	}
	return nil
}

// sandbox is the newest sandbox, or nil.
func (s *podState) sandbox() *sandboxState {
	if s == nil || len(s.Sandboxes) == 0 {
		return nil
	}
	return &s.Sandboxes[0]
}

// running lists the containers that may still be running (running,
// created or unknown), the ones a stop must reach.
func (s *podState) running() []containerState {
	if s == nil {
		return nil
	}
	var out []containerState
	for _, c := range s.Containers {
		if c.State != stateExited {
			out = append(out, c)
		}
	}
	return out
}

// anyRunning reports whether any container or sandbox is still up.
func (s *podState) anyRunning() bool {
	if s == nil {
		return false
	}
	for _, sb := range s.Sandboxes {
		if sb.Ready {
			return true
		}
	}
	return len(s.running()) > 0
}

// fromRuntime converts what the runtime reports for one container.
func containerFromRuntime(c *runtimeapi.Container, st *runtimeapi.ContainerStatus) containerState {
	cs := containerState{
		ID:      c.GetId(),
		Name:    c.GetLabels()[runtime.LabelContainerName],
		Attempt: int32(c.GetMetadata().GetAttempt()),
		State:   c.GetState(),
		Image:   c.GetImage().GetImage(),
		Labels:  c.GetLabels(),
		Sandbox: c.GetPodSandboxId(),
		Hash:    c.GetAnnotations()[annotationContainerHash],
	}
	if cs.Name == "" {
		cs.Name = c.GetMetadata().GetName()
	}
	if n, err := strconv.Atoi(c.GetAnnotations()[annotationRestartCount]); err == nil && c.GetMetadata().GetAttempt() == 0 {
		cs.Attempt = int32(n)
	}
	if c.GetCreatedAt() != 0 {
		cs.CreatedAt = time.Unix(0, c.GetCreatedAt())
	}
	if st == nil {
		return cs
	}
	cs.Status = st
	cs.State = st.GetState()
	cs.ExitCode = st.GetExitCode()
	cs.Reason = st.GetReason()
	cs.Message = st.GetMessage()
	cs.ImageRef = st.GetImageRef()
	cs.Mounts = st.GetMounts()
	if img := st.GetImage().GetImage(); img != "" {
		cs.Image = img
	}
	if st.GetCreatedAt() != 0 {
		cs.CreatedAt = time.Unix(0, st.GetCreatedAt())
	}
	if st.GetStartedAt() != 0 {
		cs.StartedAt = time.Unix(0, st.GetStartedAt())
	}
	if st.GetFinishedAt() != 0 {
		cs.FinishedAt = time.Unix(0, st.GetFinishedAt())
	}
	return cs
}
