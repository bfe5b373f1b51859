package process

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/client-go/tools/remotecommand"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/kubelet/pkg/cri/streaming"
	utilexec "k8s.io/utils/exec"
)

// Exec, Attach and PortForward work as in CRI: the call returns the URL of a
// streaming server (the kubelet's streaming package, run by the runtime on a
// loopback port) and the agent proxies the client's SPDY or WebSocket
// connection to it. The server calls back into streamRuntime.

var _ streaming.Runtime = streamRuntime{}

// streamServer is the runtime's streaming server.
type streamServer struct {
	server streaming.Server
	http   *http.Server
	url    string
}

func startStreams(addr string, rt streaming.Runtime) (*streamServer, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("process: streaming server: %w", err)
	}
	base := &url.URL{Scheme: "http", Host: l.Addr().String(), Path: "/"}
	config := streaming.DefaultConfig
	config.Addr = l.Addr().String()
	config.BaseURL = base
	server, err := streaming.NewServer(config, rt)
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("process: streaming server: %w", err)
	}
	s := &streamServer{
		server: server,
		http:   &http.Server{Handler: server, ReadHeaderTimeout: 30 * time.Second},
		url:    base.String(),
	}
	go s.http.Serve(l)
	return s, nil
}

func (s *streamServer) close() error {
	return s.http.Close()
}

// Exec returns the URL at which the streaming server runs req.
func (r *Runtime) Exec(ctx context.Context, req *runtimeapi.ExecRequest) (*runtimeapi.ExecResponse, error) {
	if err := r.running(req.GetContainerId()); err != nil {
		return nil, err
	}
	return r.streams.server.GetExec(req)
}

// Attach returns the URL at which the streaming server attaches to the
// container's stdio.
func (r *Runtime) Attach(ctx context.Context, req *runtimeapi.AttachRequest) (*runtimeapi.AttachResponse, error) {
	if err := r.running(req.GetContainerId()); err != nil {
		return nil, err
	}
	return r.streams.server.GetAttach(req)
}

// PortForward returns the URL at which the streaming server forwards
// connections to the pod's ports (ports of the host, since pods share its
// network).
func (r *Runtime) PortForward(ctx context.Context, req *runtimeapi.PortForwardRequest) (*runtimeapi.PortForwardResponse, error) {
	if _, err := r.sandbox(req.GetPodSandboxId()); err != nil {
		return nil, err
	}
	return r.streams.server.GetPortForward(req)
}

// running checks that container id exists and runs.
func (r *Runtime) running(id string) error {
	c, err := r.container(id)
	if err != nil {
		return err
	}
	if _, state := r.state(c); state != runtimeapi.ContainerState_CONTAINER_RUNNING {
		return status.Errorf(codes.FailedPrecondition, "process: container %q is not running", c.rec.Name)
	}
	return nil
}

// streamRuntime serves the streaming server's requests.
type streamRuntime struct{ r *Runtime }

// Exec runs cmd in the container with the client's streams.
func (s streamRuntime) Exec(ctx context.Context, containerID string, cmd []string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	c, err := s.r.container(containerID)
	if err != nil {
		return err
	}
	wio := execIO{stdin: in, tty: tty, resize: resize}
	if out != nil {
		wio.stdout = out
	}
	if errw != nil {
		wio.stderr = errw
	}
	code, err := s.r.run(ctx, c, cmd, wio)
	if err != nil {
		return err
	}
	if code != 0 {
		// The streaming server reports an ExitError's code to the client.
		return utilexec.CodeExitError{Err: fmt.Errorf("process: command %q exited with code %d", strings.Join(cmd, " "), code), Code: int(code)}
	}
	return nil
}

// Attach connects the client's streams to the container's, through its
// supervisor.
func (s streamRuntime) Attach(ctx context.Context, containerID string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	c, err := s.r.container(containerID)
	if err != nil {
		return err
	}
	if _, state := s.r.state(c); state != runtimeapi.ContainerState_CONTAINER_RUNNING {
		return status.Errorf(codes.FailedPrecondition, "process: container %q is not running", c.rec.Name)
	}
	ans, conn, err := s.r.sup.call(ctx, request{Op: opAttach, Container: c.rec.ID, Stdin: in != nil, Stdout: out != nil, Stderr: errw != nil}, false)
	if err == nil && ans.Error != "" {
		conn.Close()
		err = errors.New(ans.Error)
	}
	if err != nil {
		// A container whose supervisor was lost runs on, unattached.
		return status.Errorf(codes.FailedPrecondition, "process: attach to container %q: %v", c.rec.Name, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	var wmu sync.Mutex
	send := func(kind byte, payload []byte) error {
		wmu.Lock()
		defer wmu.Unlock()
		return writeFrame(conn, kind, payload)
	}
	if in != nil {
		go func() {
			buf := make([]byte, 32*1024)
			for {
				n, err := in.Read(buf)
				if n > 0 && send(frameStdin, buf[:n]) != nil {
					return
				}
				if err != nil {
					send(frameCloseStdin, nil)
					return
				}
			}
		}()
	}
	if resize != nil {
		go func() {
			for size := range resize {
				var p [4]byte
				binary.BigEndian.PutUint16(p[0:2], size.Width)
				binary.BigEndian.PutUint16(p[2:4], size.Height)
				if send(frameResize, p[:]) != nil {
					return
				}
			}
		}()
	}
	for {
		kind, payload, err := readFrame(conn)
		if err != nil {
			if errors.Is(err, io.EOF) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("process: attach: %w", err)
		}
		switch kind {
		case frameStdout:
			if out != nil {
				out.Write(payload)
			}
		case frameStderr:
			if errw != nil {
				errw.Write(payload)
			}
		case frameExit:
			return nil
		}
	}
}

// PortForward connects stream to the port on the host's loopback address.
func (s streamRuntime) PortForward(ctx context.Context, podSandboxID string, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	if _, err := s.r.sandbox(podSandboxID); err != nil {
		return err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
	if err != nil {
		return fmt.Errorf("process: port forward to port %d: %w", port, err)
	}
	defer conn.Close()
	go func() {
		io.Copy(conn, stream)
		// The client has finished sending; the server may still answer.
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
	}()
	answered := make(chan struct{})
	go func() {
		io.Copy(stream, conn)
		close(answered)
	}()
	select {
	case <-answered:
	case <-ctx.Done():
	}
	return nil
}
