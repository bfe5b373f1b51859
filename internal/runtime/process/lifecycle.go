package process

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// StartContainer asks the supervisor (starting it if none runs) to start
// the container's command. It returns once the command runs, or with the
// reason it could not be run.
func (r *Runtime) StartContainer(ctx context.Context, containerID string) error {
	c, err := r.container(containerID)
	if err != nil {
		return err
	}
	c.op.Lock()
	defer c.op.Unlock()
	if _, state := r.state(c); state != runtimeapi.ContainerState_CONTAINER_CREATED {
		return status.Errorf(codes.FailedPrecondition, "process: container %q is %s, not created", containerID, stateName(state))
	}
	sb, err := r.sandbox(c.rec.SandboxID)
	if err != nil {
		return err
	}
	r.mu.Lock()
	ready := sb.Ready
	r.mu.Unlock()
	if !ready {
		return status.Errorf(codes.FailedPrecondition, "process: pod sandbox %q of container %q is not ready", sb.ID, containerID)
	}
	if err := createCgroups(c.rec.Cgroups, c.rec.Resources); err != nil {
		return r.startFailed(c, err)
	}
	ans, conn, err := r.sup.call(ctx, request{Op: opStart, Container: c.rec.ID}, true)
	switch {
	case errors.Is(err, errNoSupervisor):
		// No supervisor could be started: nothing runs.
		return r.startFailed(c, err)
	case err != nil:
		// The supervisor goes on (or was lost); the container's state
		// will say how the start went.
		return fmt.Errorf("process: start container %q: %w", c.rec.Name, err)
	}
	conn.Close()
	if ans.Error != "" {
		// The supervisor has recorded the failure itself.
		return fmt.Errorf("process: start container %q: %s", c.rec.Name, ans.Error)
	}
	r.log.Debug("process runtime: container started", "id", c.rec.ID, "name", c.rec.Name)
	return nil
}

// startFailed records that c could not be started, as containerd does:
// exited, with code 128 and reason StartError.
func (r *Runtime) startFailed(c *container, err error) error {
	now := time.Now().UnixNano()
	st := containerState{FinishedAt: now, ExitCode: 128, Reason: "StartError", Message: err.Error()}
	if werr := writeJSON(filepath.Join(c.dir, stateFile), st); werr != nil {
		r.log.Warn("process runtime: cannot record start failure", "id", c.rec.ID, "err", werr)
	}
	return err
}

// StopContainer sends the container's stop signal (SIGTERM unless the
// config named another) to its process group, waits up to timeout seconds
// and then sends SIGKILL. Stopping a container that is not running
// succeeds.
func (r *Runtime) StopContainer(ctx context.Context, containerID string, timeout int64) error {
	c, err := r.container(containerID)
	if err != nil {
		return err
	}
	c.op.Lock()
	defer c.op.Unlock()
	return r.stop(ctx, c, time.Duration(timeout)*time.Second)
}

func (r *Runtime) stop(ctx context.Context, c *container, grace time.Duration) error {
	st, state := r.state(c)
	if state != runtimeapi.ContainerState_CONTAINER_RUNNING {
		return nil
	}
	if grace > 0 {
		sig := syscall.SIGTERM
		if n := unix.SignalNum(c.rec.StopSignal); n != 0 {
			sig = n
		}
		r.signal(ctx, c, st, sig)
		if r.waitExit(ctx, c, grace) {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("process: stop container %q: %w", c.rec.Name, ctx.Err())
		}
	}
	r.signal(ctx, c, st, syscall.SIGKILL)
	// A killed process dies at once; the supervisor then records it.
	if r.waitExit(ctx, c, 10*time.Second) {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("process: stop container %q: %w", c.rec.Name, ctx.Err())
	}
	return fmt.Errorf("process: container %q did not exit after SIGKILL", c.rec.Name)
}

// signal sends sig to the process group of c, a running container: through
// its supervisor, which knows whether the process is still its child, or
// directly (checking the pid's start time) when no supervisor runs it.
func (r *Runtime) signal(ctx context.Context, c *container, st containerState, sig syscall.Signal) {
	ans, conn, err := r.sup.call(ctx, request{Op: opSignal, Container: c.rec.ID, Signal: int(sig)}, false)
	if err == nil {
		conn.Close()
		if ans.Found {
			return
		}
	}
	signalGroup(st.PID, st.PIDStart, sig)
}

// waitExit polls until c has exited, d has passed or ctx is done, and
// reports whether c exited.
func (r *Runtime) waitExit(ctx context.Context, c *container, d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, state := r.state(c); state == runtimeapi.ContainerState_CONTAINER_EXITED {
			return true
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}

// RemoveContainer kills the container if it runs and deletes it: its
// record, cgroups and log files. Removing a container that does not exist
// succeeds, as CRI asks.
func (r *Runtime) RemoveContainer(ctx context.Context, containerID string) error {
	c, err := r.container(containerID)
	if err != nil {
		return nil
	}
	c.op.Lock()
	defer c.op.Unlock()
	if err := r.stop(ctx, c, 0); err != nil {
		return err
	}
	var errs []error
	if err := removeCgroups(c.rec.Cgroups); err != nil {
		errs = append(errs, err)
	}
	if p := c.rec.LogPath; p != "" {
		for _, f := range append(rotatedLogs(p), p) {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("process: remove log: %w", err))
			}
		}
	}
	if err := os.RemoveAll(c.dir); err != nil {
		errs = append(errs, fmt.Errorf("process: remove container: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	r.mu.Lock()
	delete(r.containers, c.rec.ID)
	r.mu.Unlock()
	return nil
}

func stateName(s runtimeapi.ContainerState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "CONTAINER_"))
}
