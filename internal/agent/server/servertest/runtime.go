package servertest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strconv"
	"sync"
	"testing"

	"k8s.io/client-go/tools/remotecommand"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/kubelet/pkg/cri/streaming"
	utilexec "k8s.io/utils/exec"

	"skiff.dev/internal/runtime"
)

// Runtime is a runtime.Runtime whose Exec, Attach and PortForward hand out
// URLs of a real kubelet streaming server, on loopback:
//
//   - exec runs the command on the host;
//   - attach writes "attached" to stderr and echoes stdin to stdout;
//   - port-forward connects to the port on 127.0.0.1.
//
// A TTY is no real terminal: the command gets plain pipes and the resize
// events go to Resizes. Of the other methods only ContainerStatus works
// (a container runs while SetRunning says so); the rest panic.
type Runtime struct {
	runtime.Runtime
	// Resizes receives the terminal sizes that reach the runtime.
	Resizes chan remotecommand.TerminalSize

	streams streaming.Server
	mu      sync.Mutex
	running map[string]bool
}

var _ runtime.Runtime = (*Runtime)(nil)

// NewRuntime starts the streaming server; it stops when the test ends.
func NewRuntime(t testing.TB) *Runtime {
	t.Helper()
	rt := &Runtime{Resizes: make(chan remotecommand.TerminalSize, 16), running: map[string]bool{}}
	srv := httptest.NewUnstartedServer(nil)
	cfg := streaming.DefaultConfig
	cfg.Addr = srv.Listener.Addr().String()
	cfg.BaseURL = &url.URL{Scheme: "http", Host: cfg.Addr}
	ss, err := streaming.NewServer(cfg, hostStreams{rt})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = ss
	srv.Start()
	t.Cleanup(srv.Close)
	rt.streams = ss
	return rt
}

// SetRunning sets whether container id runs.
func (r *Runtime) SetRunning(id string, on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running[id] = on
}

// Exec hands out the streaming URL of an exec.
func (r *Runtime) Exec(_ context.Context, req *runtimeapi.ExecRequest) (*runtimeapi.ExecResponse, error) {
	return r.streams.GetExec(req)
}

// Attach hands out the streaming URL of an attach.
func (r *Runtime) Attach(_ context.Context, req *runtimeapi.AttachRequest) (*runtimeapi.AttachResponse, error) {
	return r.streams.GetAttach(req)
}

// PortForward hands out the streaming URL of a port-forward.
func (r *Runtime) PortForward(_ context.Context, req *runtimeapi.PortForwardRequest) (*runtimeapi.PortForwardResponse, error) {
	return r.streams.GetPortForward(req)
}

// ContainerStatus reports a container running or exited.
func (r *Runtime) ContainerStatus(_ context.Context, id string, _ bool) (*runtimeapi.ContainerStatusResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	state := runtimeapi.ContainerState_CONTAINER_EXITED
	if r.running[id] {
		state = runtimeapi.ContainerState_CONTAINER_RUNNING
	}
	return &runtimeapi.ContainerStatusResponse{Status: &runtimeapi.ContainerStatus{Id: id, State: state}}, nil
}

// hostStreams is the streaming.Runtime behind Runtime.
type hostStreams struct{ rt *Runtime }

var _ streaming.Runtime = hostStreams{}

func (h hostStreams) Exec(ctx context.Context, _ string, cmd []string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	if len(cmd) == 0 {
		return errors.New("servertest: no command")
	}
	c := exec.CommandContext(ctx, cmd[0], cmd[1:]...)
	if out != nil {
		c.Stdout = out
	}
	if errw != nil {
		c.Stderr = errw
	}
	if tty {
		c.Stderr = c.Stdout
		go h.record(resize)
	}
	if in != nil {
		// Copy stdin here: exec.Cmd would wait for a client that never
		// closes it.
		pipe, err := c.StdinPipe()
		if err != nil {
			return err
		}
		go func() { _, _ = io.Copy(pipe, in); pipe.Close() }()
	}
	err := c.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return utilexec.CodeExitError{Err: err, Code: exit.ExitCode()}
	}
	return err
}

func (h hostStreams) Attach(_ context.Context, _ string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	if tty {
		go h.record(resize)
	}
	if errw != nil {
		_, _ = io.WriteString(errw, "attached\n")
	}
	if in != nil && out != nil {
		_, err := io.Copy(out, in)
		return err
	}
	return nil
}

func (h hostStreams) PortForward(ctx context.Context, _ string, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
	if err != nil {
		return err
	}
	defer conn.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(conn, stream); done <- struct{}{} }()
	go func() { _, _ = io.Copy(stream, conn); done <- struct{}{} }()
	<-done
	return nil
}

func (h hostStreams) record(resize <-chan remotecommand.TerminalSize) {
	for size := range resize {
		h.rt.Resizes <- size
	}
}
