package sim

import (
	"context"
	"maps"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// container is a hollow container. Its state is stored as of its last
// change; a container planned to exit is seen as exited once its time has
// come (view), without a timer.
type container struct {
	id, sandboxID       string
	name                string
	attempt             uint32
	image               string
	logPath             string
	labels, annotations map[string]string
	plan                plan

	state      runtimeapi.ContainerState
	createdAt  int64
	startedAt  int64
	finishedAt int64
	exitCode   int32
	reason     string
}

// CreateContainer records a container in a ready sandbox.
func (r *Runtime) CreateContainer(ctx context.Context, podSandboxID string, config *runtimeapi.ContainerConfig, sandboxConfig *runtimeapi.PodSandboxConfig) (string, error) {
	if config.GetMetadata() == nil {
		return "", status.Error(codes.InvalidArgument, "sim: container config has no metadata")
	}
	r.mu.RLock()
	sb, ok := r.sandboxes[podSandboxID]
	var podAnnotations map[string]string
	ready := false
	if ok {
		podAnnotations, ready = sb.annotations, sb.ready
	}
	r.mu.RUnlock()
	if !ok {
		return "", notFound("pod sandbox", podSandboxID)
	}
	if !ready {
		return "", status.Errorf(codes.FailedPrecondition, "sim: pod sandbox %q is not ready", podSandboxID)
	}
	p, err := planFor(config.Metadata.Name, config.Annotations, podAnnotations)
	if err != nil {
		return "", err
	}
	c := &container{
		id:          newID(),
		sandboxID:   podSandboxID,
		name:        config.Metadata.Name,
		attempt:     config.Metadata.Attempt,
		image:       config.GetImage().GetImage(),
		labels:      maps.Clone(config.Labels),
		annotations: maps.Clone(config.Annotations),
		plan:        p,
		state:       runtimeapi.ContainerState_CONTAINER_CREATED,
		createdAt:   r.clock.Now().UnixNano(),
	}
	if dir := sandboxConfig.GetLogDirectory(); dir != "" && config.LogPath != "" {
		c.logPath = strings.TrimSuffix(dir, "/") + "/" + config.LogPath
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.sandboxes[podSandboxID]; !ok {
		return "", notFound("pod sandbox", podSandboxID)
	}
	r.containers[c.id] = c
	return c.id, nil
}

// StartContainer starts a created container: it runs from now on.
func (r *Runtime) StartContainer(ctx context.Context, containerID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[containerID]
	if !ok {
		return notFound("container", containerID)
	}
	if c.state != runtimeapi.ContainerState_CONTAINER_CREATED {
		return status.Errorf(codes.FailedPrecondition, "sim: container %q is %s, not created", containerID, c.state)
	}
	c.state = runtimeapi.ContainerState_CONTAINER_RUNNING
	c.startedAt = r.clock.Now().UnixNano()
	return nil
}

// StopContainer stops a running container at once: it exits with code 0.
// Stopping a container that is not running succeeds.
func (r *Runtime) StopContainer(ctx context.Context, containerID string, timeout int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[containerID]
	if !ok {
		return notFound("container", containerID)
	}
	c.stop(r.clock.Now())
	return nil
}

// stop ends a running container now, unless its plan has ended it already.
func (c *container) stop(now time.Time) {
	*c = c.view(now)
	if c.state == runtimeapi.ContainerState_CONTAINER_RUNNING {
		c.state = runtimeapi.ContainerState_CONTAINER_EXITED
		c.finishedAt = now.UnixNano()
		c.exitCode = 0
		c.reason = "Completed"
	}
}

// RemoveContainer forgets a container. Removing one that does not exist
// succeeds, as CRI asks.
func (r *Runtime) RemoveContainer(ctx context.Context, containerID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.containers, containerID)
	return nil
}

// ListContainers lists the containers that match filter.
func (r *Runtime) ListContainers(ctx context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error) {
	now := r.clock.Now()
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []*runtimeapi.Container
	for _, stored := range r.containers {
		if filter != nil {
			if filter.Id != "" && !strings.HasPrefix(stored.id, filter.Id) {
				continue
			}
			if filter.PodSandboxId != "" && stored.sandboxID != filter.PodSandboxId {
				continue
			}
			if !matchLabels(stored.labels, filter.LabelSelector) {
				continue
			}
		}
		c := stored.view(now)
		if filter != nil && filter.State != nil && filter.State.State != c.state {
			continue
		}
		out = append(out, &runtimeapi.Container{
			Id:           c.id,
			PodSandboxId: c.sandboxID,
			Metadata:     &runtimeapi.ContainerMetadata{Name: c.name, Attempt: c.attempt},
			Image:        &runtimeapi.ImageSpec{Image: c.image},
			ImageRef:     c.image,
			State:        c.state,
			CreatedAt:    c.createdAt,
			Labels:       maps.Clone(c.labels),
			Annotations:  maps.Clone(c.annotations),
		})
	}
	return out, nil
}

// ContainerStatus reports a container.
func (r *Runtime) ContainerStatus(ctx context.Context, containerID string, verbose bool) (*runtimeapi.ContainerStatusResponse, error) {
	now := r.clock.Now()
	r.mu.RLock()
	stored, ok := r.containers[containerID]
	var c container
	if ok {
		c = stored.view(now)
	}
	r.mu.RUnlock()
	if !ok {
		return nil, notFound("container", containerID)
	}
	return &runtimeapi.ContainerStatusResponse{Status: &runtimeapi.ContainerStatus{
		Id:          c.id,
		Metadata:    &runtimeapi.ContainerMetadata{Name: c.name, Attempt: c.attempt},
		State:       c.state,
		CreatedAt:   c.createdAt,
		StartedAt:   c.startedAt,
		FinishedAt:  c.finishedAt,
		ExitCode:    c.exitCode,
		Image:       &runtimeapi.ImageSpec{Image: c.image},
		ImageRef:    c.image,
		Reason:      c.reason,
		Labels:      maps.Clone(c.labels),
		Annotations: maps.Clone(c.annotations),
		LogPath:     c.logPath,
	}}, nil
}

// ExecSync succeeds, with no output, for a running container.
func (r *Runtime) ExecSync(ctx context.Context, containerID string, cmd []string, timeout time.Duration) ([]byte, []byte, error) {
	now := r.clock.Now()
	r.mu.RLock()
	stored, ok := r.containers[containerID]
	var state runtimeapi.ContainerState
	if ok {
		state = stored.view(now).state
	}
	r.mu.RUnlock()
	switch {
	case !ok:
		return nil, nil, notFound("container", containerID)
	case state != runtimeapi.ContainerState_CONTAINER_RUNNING:
		return nil, nil, status.Errorf(codes.FailedPrecondition, "sim: container %q is not running", containerID)
	}
	return nil, nil, nil
}

// view is c as of now: a running container whose planned time is up has
// exited.
func (c *container) view(now time.Time) container {
	v := *c
	if v.state != runtimeapi.ContainerState_CONTAINER_RUNNING || !v.plan.exits {
		return v
	}
	end := v.startedAt + int64(v.plan.runFor)
	if now.UnixNano() < end {
		return v
	}
	v.state = runtimeapi.ContainerState_CONTAINER_EXITED
	v.finishedAt = end
	v.exitCode = v.plan.exitCode
	v.reason = "Completed"
	if v.exitCode != 0 {
		v.reason = "Error"
	}
	return v
}
