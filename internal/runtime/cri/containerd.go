// Package cri runs pods through a CRI v1 runtime (containerd): it starts
// and supervises a containerd of skiff's own, with a config skiff writes
// and all its state under the data directory, or connects to an existing
// CRI socket, and hands back the CRI client's runtime and image services,
// which implement skiff's runtime.Runtime and runtime.Images as they are.
// WriteCNIConfig writes the pod network (bridge, host-local, portmap) that
// containerd sets up for every sandbox.
package cri

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"skiff.dev/internal/runtime"
)

// Timings of Start and Stop.
const (
	readyTimeout = 10 * time.Second // for containerd to answer CRI Version
	stopTimeout  = 5 * time.Second  // from SIGTERM to SIGKILL
	pollInterval = 50 * time.Millisecond
)

// maxSocketPath is the longest socket path a unix socket address holds,
// less the ".ttrpc" containerd appends for its second socket.
const maxSocketPath = 107 - len(".ttrpc")

// Containerd is a containerd process that Start runs as a child of skiff.
type Containerd struct {
	opts     Options
	layout   layout
	cmd      *exec.Cmd
	version  string
	rt       runtime.Runtime
	img      runtime.Images
	done     chan struct{} // closed once the process has exited
	mu       sync.Mutex
	stopping bool  // Stop was called
	exitErr  error // how the process ended, once done is closed
}

// Start writes containerd's config under opts.DataDir, runs containerd and
// waits (up to 10 seconds, or until ctx ends) for it to answer CRI. ctx
// bounds only the start: containerd runs until Stop, or until skiff exits
// (it gets SIGTERM then).
func Start(ctx context.Context, opts Options) (*Containerd, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	l := newLayout(opts.DataDir)
	if len(l.socket) > maxSocketPath {
		return nil, fmt.Errorf("cri: socket path %s is longer than %d bytes; use a shorter data directory", l.socket, maxSocketPath)
	}
	binary, err := exec.LookPath(opts.Binary)
	if err != nil {
		return nil, fmt.Errorf("cri: %w", err)
	}
	endpoint := "unix://" + l.socket
	if _, err := os.Stat(l.socket); err == nil {
		probe, cancel := context.WithTimeout(ctx, time.Second)
		_, err := criVersion(probe, endpoint)
		cancel()
		if err == nil {
			return nil, fmt.Errorf("cri: a containerd already serves %s", l.socket)
		}
		if err := os.Remove(l.socket); err != nil {
			return nil, fmt.Errorf("cri: removing stale socket: %w", err)
		}
	}

	if err := writeConfig(opts, l); err != nil {
		return nil, err
	}
	opts.Binary = binary
	c, err := spawn(opts, l)
	if err != nil {
		return nil, err
	}
	resp, err := c.waitReady(ctx, endpoint)
	if err == nil {
		c.version = resp.RuntimeName + " " + resp.RuntimeVersion
		c.rt, c.img, err = newClients(endpoint)
	}
	if err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// spawn starts containerd and the goroutine that reaps it.
func spawn(opts Options, l layout) (*Containerd, error) {
	cmd := exec.Command(opts.Binary, "--config", l.config)
	cmd.Stdout = opts.Log
	cmd.Stderr = opts.Log
	// Its own process group keeps a terminal's ^C to skiff from reaching
	// containerd directly; Pdeathsig stops it when skiff dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	// Should anything it starts inherit the output pipe, Wait does not
	// wait for it to close.
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cri: starting containerd: %w", err)
	}
	c := &Containerd{opts: opts, layout: l, cmd: cmd, done: make(chan struct{})}
	go c.wait()
	return c, nil
}

// wait reaps the process and records how it ended.
func (c *Containerd) wait() {
	err := c.cmd.Wait()
	c.mu.Lock()
	if err == nil {
		err = errors.New("exited")
	}
	c.exitErr = fmt.Errorf("cri: containerd %w", err)
	c.mu.Unlock()
	close(c.done)
}

// waitReady polls the socket until containerd answers CRI Version.
func (c *Containerd) waitReady(ctx context.Context, endpoint string) (*runtimeapi.VersionResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	var last error = errors.New("no socket yet")
	for {
		if _, err := os.Stat(c.layout.socket); err == nil {
			attempt, cancelAttempt := context.WithTimeout(ctx, time.Second)
			resp, err := criVersion(attempt, endpoint)
			cancelAttempt()
			if err == nil {
				return resp, nil
			}
			last = err
		}
		select {
		case <-c.done:
			return nil, fmt.Errorf("%w before answering CRI (see its log)", c.exitError())
		case <-ctx.Done():
			return nil, fmt.Errorf("cri: containerd did not answer CRI at %s within %s: %w", endpoint, readyTimeout, last)
		case <-time.After(pollInterval):
		}
	}
}

func (c *Containerd) exitError() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.exitErr
}

// Endpoint is containerd's CRI endpoint, a unix:// URL.
func (c *Containerd) Endpoint() string { return "unix://" + c.layout.socket }

// Version is the runtime's name and version as it reported them.
func (c *Containerd) Version() string { return c.version }

// Runtime is containerd's CRI runtime service.
func (c *Containerd) Runtime() runtime.Runtime { return c.rt }

// Images is containerd's CRI image service.
func (c *Containerd) Images() runtime.Images { return c.img }

// Done is closed when containerd has exited.
func (c *Containerd) Done() <-chan struct{} { return c.done }

// Err reports containerd's exit if it ended without Stop asking it to;
// nil while it runs or after Stop.
func (c *Containerd) Err() error {
	select {
	case <-c.done:
	default:
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopping {
		return nil
	}
	return c.exitErr
}

// Stop sends containerd SIGTERM and, if it has not exited 5 seconds later,
// SIGKILL. Containers keep running (their shims are separate processes),
// so a restarted containerd finds them again; stopping pods is the agent's
// business. Stop returns nil if containerd exited on SIGTERM.
func (c *Containerd) Stop() error {
	c.mu.Lock()
	c.stopping = true
	c.mu.Unlock()
	select {
	case <-c.done:
		return nil
	default:
	}
	// os.Process signals through a pidfd, so a reaped pid is never hit.
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("cri: stopping containerd: %w", err)
	}
	select {
	case <-c.done:
		return nil
	case <-time.After(stopTimeout):
	}
	c.cmd.Process.Kill()
	<-c.done
	return fmt.Errorf("cri: containerd did not stop within %s of SIGTERM; killed", stopTimeout)
}

// Wait blocks until containerd has exited. It returns nil if Stop stopped
// it, and how it ended otherwise.
func (c *Containerd) Wait() error {
	<-c.done
	return c.Err()
}
