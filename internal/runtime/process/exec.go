package process

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"k8s.io/client-go/tools/remotecommand"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	utilexec "k8s.io/utils/exec"
)

// Commands run in a container (ExecSync, Exec) start like the container's
// own command (spawn.go), from a thread of the runtime: in its cgroups,
// with its environment, user and working directory and, for a container
// with volumes, in its mount namespace, which the thread enters (the
// namespace of the container's main process, found through /proc).

// maxExecOutput bounds what ExecSync keeps of each stream.
const maxExecOutput = 16 << 20

// execIO is how a command in a container is wired to its caller.
type execIO struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	tty            bool
	resize         <-chan remotecommand.TerminalSize
}

// ExecSync runs cmd in the container and returns its output. A non-zero
// exit is a utilexec.CodeExitError; running past timeout (when positive)
// kills the command and returns a DeadlineExceeded status.
func (r *Runtime) ExecSync(ctx context.Context, containerID string, cmd []string, timeout time.Duration) ([]byte, []byte, error) {
	c, err := r.container(containerID)
	if err != nil {
		return nil, nil, err
	}
	runCtx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	stdout := &limitedBuffer{max: maxExecOutput}
	stderr := &limitedBuffer{max: maxExecOutput}
	code, err := r.run(runCtx, c, cmd, execIO{stdout: stdout, stderr: stderr})
	switch {
	case err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded):
		return stdout.Bytes(), stderr.Bytes(), status.Errorf(codes.DeadlineExceeded, "process: command %q timed out after %s", strings.Join(cmd, " "), timeout)
	case err != nil:
		return nil, nil, err
	case code != 0:
		return stdout.Bytes(), stderr.Bytes(), utilexec.CodeExitError{
			Err:  fmt.Errorf("process: command %q exited with code %d", strings.Join(cmd, " "), code),
			Code: int(code),
		}
	}
	return stdout.Bytes(), stderr.Bytes(), nil
}

// run runs cmd in c until it exits or ctx is done, and returns its exit code.
func (r *Runtime) run(ctx context.Context, c *container, cmd []string, wio execIO) (int32, error) {
	if len(cmd) == 0 {
		return 0, status.Error(codes.InvalidArgument, "process: no command to run")
	}
	st, state := r.state(c)
	if state != runtimeapi.ContainerState_CONTAINER_RUNNING {
		return 0, status.Errorf(codes.FailedPrecondition, "process: container %q is not running", c.rec.Name)
	}
	spec := spawnSpec{
		argv:        cmd,
		env:         c.rec.Env,
		dir:         c.rec.WorkingDir,
		cgroups:     c.rec.Cgroups,
		oomScoreAdj: c.rec.OOMScoreAdj,
		user:        c.rec.User,
	}
	if len(c.rec.Mounts) > 0 {
		if !alive(st.PID, st.PIDStart) {
			return 0, status.Errorf(codes.FailedPrecondition, "process: container %q is not running", c.rec.Name)
		}
		spec.mountsOf = &procRef{pid: st.PID, start: st.PIDStart}
	}

	cio, copying, closeIO, err := wireExec(wio)
	if err != nil {
		return 0, err
	}
	proc, err := spawn(spec, cio)
	closeIO.childEnds()
	var startErr *startError
	switch {
	case errors.As(err, &startErr):
		// The command could not be run: say why, as a shell would.
		if wio.stderr != nil {
			io.WriteString(wio.stderr, startErr.Error()+"\n")
		}
		if proc == nil {
			closeIO.all()
			return startErr.code, nil
		}
	case err != nil:
		closeIO.all()
		return 0, err
	}

	exited := make(chan *os.ProcessState, 1)
	go func() {
		ps, _ := proc.Wait()
		exited <- ps
	}()
	var ps *os.ProcessState
	select {
	case ps = <-exited:
	case <-ctx.Done():
		syscall.Kill(-proc.Pid, syscall.SIGKILL)
		<-exited
		closeIO.all()
		return 0, ctx.Err()
	}
	// Output still in flight drains; a background process the command
	// left holding the streams does not hold the caller for long.
	closeIO.stdin()
	if !waitTimeout(copying, 2*time.Second) {
		closeIO.all()
		copying.Wait()
	}
	closeIO.all()
	switch {
	case startErr != nil:
		return startErr.code, nil
	case ps == nil:
		return 255, nil
	}
	return exitCode(ps.Sys().(syscall.WaitStatus)), nil
}

// execClosers closes the files wireExec made, in stages.
type execClosers struct {
	child  []*os.File // the command's ends: closed once it has them
	input  []*os.File // our end of stdin: closed when the command exits
	output []*os.File // our ends of the output: closed when drained
	// terminal, when there is one, closes the terminal's master side.
	terminal func()
}

func (e execClosers) childEnds() { closeFiles(e.child) }
func (e execClosers) stdin()     { closeFiles(e.input) }

func (e execClosers) all() {
	closeFiles(e.child)
	closeFiles(e.input)
	closeFiles(e.output)
	if e.terminal != nil {
		e.terminal()
	}
}

func closeFiles(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// terminal is the master side of a command's terminal, resized while the
// command runs and closed after.
type terminal struct {
	mu     sync.Mutex
	master *os.File
	closed bool
}

func (t *terminal) resize(size remotecommand.TerminalSize) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.closed {
		pty.Setsize(t.master, &pty.Winsize{Cols: size.Width, Rows: size.Height})
	}
}

func (t *terminal) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.closed {
		t.closed = true
		t.master.Close()
	}
}

// wireExec makes the command's stdio for wio and starts copying; copying
// finishes when the output has been copied.
func wireExec(wio execIO) (commandIO, *sync.WaitGroup, execClosers, error) {
	var copying sync.WaitGroup
	var cl execClosers
	copyOut := func(w io.Writer, r *os.File) {
		copying.Add(1)
		go func() {
			defer copying.Done()
			io.Copy(w, r)
		}()
	}
	if wio.tty {
		master, slave, err := pty.Open()
		if err != nil {
			return commandIO{}, nil, cl, fmt.Errorf("process: open terminal: %w", err)
		}
		term := &terminal{master: master}
		cl.child = []*os.File{slave}
		cl.terminal = term.close
		if wio.stdin != nil {
			go io.Copy(master, wio.stdin)
		}
		if wio.stdout != nil {
			copyOut(wio.stdout, master)
		} else {
			copyOut(io.Discard, master)
		}
		if wio.resize != nil {
			go func() {
				for size := range wio.resize {
					term.resize(size)
				}
			}()
		}
		return commandIO{stdin: slave, stdout: slave, stderr: slave, tty: true}, &copying, cl, nil
	}
	var cio commandIO
	if wio.stdin != nil {
		r, w, err := os.Pipe()
		if err != nil {
			return commandIO{}, nil, cl, fmt.Errorf("process: %w", err)
		}
		cio.stdin = r
		cl.child = append(cl.child, r)
		cl.input = append(cl.input, w)
		go func() {
			io.Copy(w, wio.stdin)
			w.Close()
		}()
	}
	for _, out := range []struct {
		w   io.Writer
		set **os.File
	}{{wio.stdout, &cio.stdout}, {wio.stderr, &cio.stderr}} {
		if out.w == nil {
			continue
		}
		r, w, err := os.Pipe()
		if err != nil {
			cl.all()
			return commandIO{}, nil, cl, fmt.Errorf("process: %w", err)
		}
		*out.set = w
		cl.child = append(cl.child, w)
		cl.output = append(cl.output, r)
		copyOut(out.w, r)
	}
	return cio, &copying, cl, nil
}

// limitedBuffer keeps the first max bytes written to it and drops the rest.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}
