package process

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"path/filepath"
	"strings"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// state reads what the supervisor recorded for c and decides the CRI state:
//
//   - no state file: created (never started);
//   - a finish time: exited;
//   - otherwise running, as long as the supervisor that started it lives
//     (in this boot of the host: after a reboot nothing of it is left).
//     A container whose supervisor died without recording its end (killed
//     by hand, say) still runs if its process does; once that is gone too,
//     the container is recorded as exited with code 255 and a message
//     saying its real exit status was lost.
func (r *Runtime) state(c *container) (containerState, runtimeapi.ContainerState) {
	if st := c.final.Load(); st != nil {
		return *st, runtimeapi.ContainerState_CONTAINER_EXITED
	}
	st, err := readState(c.dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return containerState{}, runtimeapi.ContainerState_CONTAINER_CREATED
	case err != nil:
		r.log.Warn("process runtime: unreadable container state", "id", c.rec.ID, "err", err)
		return containerState{}, runtimeapi.ContainerState_CONTAINER_UNKNOWN
	case st.FinishedAt != 0:
		c.final.Store(&st)
		return st, runtimeapi.ContainerState_CONTAINER_EXITED
	case st.BootID == bootID() && alive(st.SupervisorPID, st.SupervisorStart):
		return st, runtimeapi.ContainerState_CONTAINER_RUNNING
	}
	// The supervisor is gone. It may have recorded the end just now.
	if again, err := readState(c.dir); err == nil && again.FinishedAt != 0 {
		c.final.Store(&again)
		return again, runtimeapi.ContainerState_CONTAINER_EXITED
	}
	if st.BootID == bootID() && alive(st.PID, st.PIDStart) {
		return st, runtimeapi.ContainerState_CONTAINER_RUNNING
	}
	st.FinishedAt = time.Now().UnixNano()
	st.ExitCode = 255
	st.Reason = "Error"
	st.Message = lostMessage
	if err := writeJSON(filepath.Join(c.dir, stateFile), st); err != nil {
		r.log.Warn("process runtime: cannot record lost container", "id", c.rec.ID, "err", err)
	}
	c.final.Store(&st)
	return st, runtimeapi.ContainerState_CONTAINER_EXITED
}

// lostMessage is the status message of a container whose supervisor died
// before it.
const lostMessage = "process: the container's supervisor ended before the container did, so its exit status is lost"

// ListContainers lists the containers that match filter.
func (r *Runtime) ListContainers(ctx context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error) {
	r.mu.Lock()
	all := make([]*container, 0, len(r.containers))
	for _, c := range r.containers {
		all = append(all, c)
	}
	r.mu.Unlock()
	var out []*runtimeapi.Container
	for _, c := range all {
		if filter != nil {
			if filter.Id != "" && !strings.HasPrefix(c.rec.ID, filter.Id) {
				continue
			}
			if filter.PodSandboxId != "" && c.rec.SandboxID != filter.PodSandboxId {
				continue
			}
			if !matchLabels(c.rec.Labels, filter.LabelSelector) {
				continue
			}
		}
		_, state := r.state(c)
		if filter != nil && filter.State != nil && filter.State.State != state {
			continue
		}
		out = append(out, &runtimeapi.Container{
			Id:           c.rec.ID,
			PodSandboxId: c.rec.SandboxID,
			Metadata:     c.rec.metadata(),
			Image:        &runtimeapi.ImageSpec{Image: c.rec.Image},
			ImageRef:     c.rec.Image,
			State:        state,
			CreatedAt:    c.rec.CreatedAt,
			Labels:       maps.Clone(c.rec.Labels),
			Annotations:  maps.Clone(c.rec.Annotations),
		})
	}
	return out, nil
}

// ContainerStatus reports the container.
func (r *Runtime) ContainerStatus(ctx context.Context, containerID string, verbose bool) (*runtimeapi.ContainerStatusResponse, error) {
	c, err := r.container(containerID)
	if err != nil {
		return nil, err
	}
	st, state := r.state(c)
	mounts := make([]*runtimeapi.Mount, len(c.rec.Mounts))
	for i, m := range c.rec.Mounts {
		mounts[i] = &runtimeapi.Mount{HostPath: m.HostPath, ContainerPath: m.ContainerPath, Readonly: m.Readonly}
	}
	s := &runtimeapi.ContainerStatus{
		Id:          c.rec.ID,
		Metadata:    c.rec.metadata(),
		State:       state,
		CreatedAt:   c.rec.CreatedAt,
		StartedAt:   st.StartedAt,
		FinishedAt:  st.FinishedAt,
		ExitCode:    st.ExitCode,
		Image:       &runtimeapi.ImageSpec{Image: c.rec.Image},
		ImageRef:    c.rec.Image,
		Reason:      st.Reason,
		Message:     st.Message,
		Labels:      maps.Clone(c.rec.Labels),
		Annotations: maps.Clone(c.rec.Annotations),
		Mounts:      mounts,
		LogPath:     c.rec.LogPath,
		Resources: &runtimeapi.ContainerResources{Linux: &runtimeapi.LinuxContainerResources{
			CpuPeriod:          c.rec.Resources.CPUPeriod,
			CpuQuota:           c.rec.Resources.CPUQuota,
			CpuShares:          c.rec.Resources.CPUShares,
			MemoryLimitInBytes: c.rec.Resources.MemoryLimit,
			OomScoreAdj:        c.rec.OOMScoreAdj,
		}},
	}
	if c.rec.StopSignal != "" {
		s.StopSignal = runtimeapi.Signal(runtimeapi.Signal_value[c.rec.StopSignal])
	}
	return &runtimeapi.ContainerStatusResponse{Status: s}, nil
}

func (rec *containerRecord) metadata() *runtimeapi.ContainerMetadata {
	return &runtimeapi.ContainerMetadata{Name: rec.Name, Attempt: rec.Attempt}
}
