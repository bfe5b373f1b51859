package process

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
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

// Commands run in a container (ExecSync, Exec) go through the init step, like
// the container's own command: they join its cgroups, get its environment,
// user and working directory, and, for a container with volumes, its view of
// the filesystem. The init step gets that view by chroot to
// /proc/<container pid>/root: that directory is the container's root as its
// mount namespace sees it, so paths below it resolve through the
// container's mounts. (setns into a mount namespace would need a
// single-threaded process, which a Go program never is.) The command itself
// stays in the host's mount namespace, so /proc/self/mountinfo shows the
// host's mounts.

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
	spec := initSpec{
		Argv:        cmd,
		Env:         c.rec.Env,
		Dir:         c.rec.WorkingDir,
		Cgroups:     slices.Sorted(maps.Values(c.rec.Cgroups)),
		OOMScoreAdj: c.rec.OOMScoreAdj,
		User:        c.rec.User,
	}
	if len(c.rec.Mounts) > 0 {
		if !alive(st.PID, st.PIDStart) {
			return 0, status.Errorf(codes.FailedPrecondition, "process: container %q is not running", c.rec.Name)
		}
		spec.Root = "/proc/" + strconv.Itoa(st.PID) + "/root"
	}

	wiring, copying, closeIO, err := wireExec(wio)
	if err != nil {
		return 0, err
	}
	proc, err := startInit(spec, wiring)
	closeIO.childEnds()
	var initErr *initError
	if errors.As(err, &initErr) && wio.stderr != nil {
		io.WriteString(wio.stderr, initErr.msg+"\n")
	} else if err != nil {
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
	if ps == nil {
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
func wireExec(wio execIO) (initIO, *sync.WaitGroup, execClosers, error) {
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
			return initIO{}, nil, cl, fmt.Errorf("process: open terminal: %w", err)
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
		return initIO{stdin: slave, stdout: slave, stderr: slave, tty: true}, &copying, cl, nil
	}
	var wiring initIO
	if wio.stdin != nil {
		r, w, err := os.Pipe()
		if err != nil {
			return initIO{}, nil, cl, fmt.Errorf("process: %w", err)
		}
		wiring.stdin = r
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
	}{{wio.stdout, &wiring.stdout}, {wio.stderr, &wiring.stderr}} {
		if out.w == nil {
			continue
		}
		r, w, err := os.Pipe()
		if err != nil {
			cl.all()
			return initIO{}, nil, cl, fmt.Errorf("process: %w", err)
		}
		*out.set = w
		cl.child = append(cl.child, w)
		cl.output = append(cl.output, r)
		copyOut(out.w, r)
	}
	return wiring, &copying, cl, nil
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
