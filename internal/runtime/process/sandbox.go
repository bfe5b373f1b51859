package process

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// A sandbox of the process runtime is a record, a directory and (as root) a
// cgroup that its containers' cgroups go under. There is no pause process and
// no network namespace: every pod uses the host's network, and its IP is
// Options.HostIP.

// RunPodSandbox creates a ready sandbox.
func (r *Runtime) RunPodSandbox(ctx context.Context, config *runtimeapi.PodSandboxConfig, runtimeHandler string) (string, error) {
	md := config.GetMetadata()
	if md == nil {
		return "", status.Error(codes.InvalidArgument, "process: pod sandbox config has no metadata")
	}
	id, err := newID()
	if err != nil {
		return "", err
	}
	rec := &sandboxRecord{
		ID:             id,
		Name:           md.Name,
		Namespace:      md.Namespace,
		UID:            md.Uid,
		Attempt:        md.Attempt,
		Labels:         maps.Clone(config.Labels),
		Annotations:    maps.Clone(config.Annotations),
		LogDirectory:   config.LogDirectory,
		RuntimeHandler: runtimeHandler,
		CreatedAt:      time.Now().UnixNano(),
		Ready:          true,
	}
	dir := r.sandboxDir(id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("process: create sandbox: %w", err)
	}
	if r.cgroupParents != nil {
		rec.Cgroups = childCgroups(r.cgroupParents, "pod-"+id)
		// Pod-level limits are applied when cgroups are at hand; without
		// them each container's own limits decide whether it may run.
		res := toResources(config.GetLinux().GetResources())
		res.CPUShares = 0
		res.PidsLimit = r.opts.PodPidsLimit
		if err := createCgroups(rec.Cgroups, res); err != nil {
			removeCgroups(rec.Cgroups)
			os.RemoveAll(dir)
			return "", err
		}
	}
	if err := writeJSON(filepath.Join(dir, sandboxFile), rec); err != nil {
		removeCgroups(rec.Cgroups)
		os.RemoveAll(dir)
		return "", err
	}
	r.mu.Lock()
	r.sandboxes[id] = rec
	r.mu.Unlock()
	r.log.Debug("process runtime: sandbox created", "id", id, "pod", md.Namespace+"/"+md.Name)
	return id, nil
}

// StopPodSandbox kills the sandbox's containers and marks it not ready.
func (r *Runtime) StopPodSandbox(ctx context.Context, podSandboxID string) error {
	sb, err := r.sandbox(podSandboxID)
	if err != nil {
		return err
	}
	var errs []error
	for _, c := range r.containersOf(podSandboxID) {
		if err := r.StopContainer(ctx, c.rec.ID, 0); err != nil && status.Code(err) != codes.NotFound {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !sb.Ready {
		return nil
	}
	next := *sb
	next.Ready = false
	if err := writeJSON(filepath.Join(r.sandboxDir(sb.ID), sandboxFile), &next); err != nil {
		return err
	}
	sb.Ready = false
	return nil
}

// RemovePodSandbox removes the sandbox and all its containers. Removing a
// sandbox that does not exist succeeds, as CRI asks.
func (r *Runtime) RemovePodSandbox(ctx context.Context, podSandboxID string) error {
	sb, err := r.sandbox(podSandboxID)
	if err != nil {
		return nil
	}
	for _, c := range r.containersOf(podSandboxID) {
		if err := r.RemoveContainer(ctx, c.rec.ID); err != nil {
			return err
		}
	}
	if err := removeCgroups(sb.Cgroups); err != nil {
		return err
	}
	if err := os.RemoveAll(r.sandboxDir(sb.ID)); err != nil {
		return fmt.Errorf("process: remove sandbox: %w", err)
	}
	r.mu.Lock()
	delete(r.sandboxes, sb.ID)
	r.mu.Unlock()
	return nil
}

// PodSandboxStatus reports the sandbox.
func (r *Runtime) PodSandboxStatus(ctx context.Context, podSandboxID string, verbose bool) (*runtimeapi.PodSandboxStatusResponse, error) {
	sb, err := r.sandbox(podSandboxID)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return &runtimeapi.PodSandboxStatusResponse{
		Status: &runtimeapi.PodSandboxStatus{
			Id:        sb.ID,
			Metadata:  sb.metadata(),
			State:     sb.state(),
			CreatedAt: sb.CreatedAt,
			Network:   &runtimeapi.PodSandboxNetworkStatus{Ip: r.opts.HostIP},
			Linux: &runtimeapi.LinuxPodSandboxStatus{Namespaces: &runtimeapi.Namespace{Options: &runtimeapi.NamespaceOption{
				Network: runtimeapi.NamespaceMode_NODE,
				Pid:     runtimeapi.NamespaceMode_NODE,
				Ipc:     runtimeapi.NamespaceMode_NODE,
			}}},
			Labels:         maps.Clone(sb.Labels),
			Annotations:    maps.Clone(sb.Annotations),
			RuntimeHandler: sb.RuntimeHandler,
		},
		Timestamp: time.Now().UnixNano(),
	}, nil
}

// ListPodSandbox lists the sandboxes that match filter.
func (r *Runtime) ListPodSandbox(ctx context.Context, filter *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*runtimeapi.PodSandbox
	for _, sb := range r.sandboxes {
		if filter != nil {
			if filter.Id != "" && !strings.HasPrefix(sb.ID, filter.Id) {
				continue
			}
			if filter.State != nil && filter.State.State != sb.state() {
				continue
			}
			if !matchLabels(sb.Labels, filter.LabelSelector) {
				continue
			}
		}
		out = append(out, &runtimeapi.PodSandbox{
			Id:             sb.ID,
			Metadata:       sb.metadata(),
			State:          sb.state(),
			CreatedAt:      sb.CreatedAt,
			Labels:         maps.Clone(sb.Labels),
			Annotations:    maps.Clone(sb.Annotations),
			RuntimeHandler: sb.RuntimeHandler,
		})
	}
	return out, nil
}

// containersOf lists the containers of a sandbox.
func (r *Runtime) containersOf(sandboxID string) []*container {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*container
	for _, c := range r.containers {
		if c.rec.SandboxID == sandboxID {
			out = append(out, c)
		}
	}
	return out
}

func (sb *sandboxRecord) metadata() *runtimeapi.PodSandboxMetadata {
	return &runtimeapi.PodSandboxMetadata{Name: sb.Name, Namespace: sb.Namespace, Uid: sb.UID, Attempt: sb.Attempt}
}

func (sb *sandboxRecord) state() runtimeapi.PodSandboxState {
	if sb.Ready {
		return runtimeapi.PodSandboxState_SANDBOX_READY
	}
	return runtimeapi.PodSandboxState_SANDBOX_NOTREADY
}

// matchLabels reports whether labels has every pair of selector.
func matchLabels(labels, selector map[string]string) bool {
	for k, v := range selector {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}
