package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// ReadyLine is what a skiff server logs on stderr once its API answers.
const ReadyLine = "API server ready"

// ServerCommand is `skiff server` on a fresh port of loopback, keeping its
// data in dataDir. It runs no scheduler: the benchmarks measure the API
// server, or bring their own scheduler.
func ServerCommand(bin, dataDir string) *exec.Cmd {
	return exec.Command(bin, "server", "--data-dir", dataDir, "--api-port", "0", "--bind-address", "127.0.0.1",
		"--disable-scheduler")
}

// Process is a control plane running as a child process.
type Process struct {
	// Kubeconfig is the admin kubeconfig the server wrote.
	Kubeconfig string
	// URL is the API server's address, from its ready line.
	URL string

	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// StartProcess starts cmd, a server that logs ReadyLine with url=... on
// stderr and writes admin.kubeconfig into dataDir, and waits for it to be
// ready. The rest of its stderr goes to log (nil discards it).
func StartProcess(ctx context.Context, cmd *exec.Cmd, dataDir string, log io.Writer) (*Process, error) {
	return StartProcessUntil(ctx, cmd, dataDir, ReadyLine, log)
}

// StartProcessUntil is StartProcess for a process that logs readyLine
// instead, such as `skiff agent` ("node started").
func StartProcessUntil(ctx context.Context, cmd *exec.Cmd, dataDir, readyLine string, log io.Writer) (*Process, error) {
	if log == nil {
		log = io.Discard
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start %s: %w", cmd.Path, err)
	}
	p := &Process{Kubeconfig: filepath.Join(dataDir, "admin.kubeconfig"), cmd: cmd, done: make(chan struct{})}
	ready := make(chan string, 1)
	var (
		mu   sync.Mutex
		tail []string // the last lines, for an error before ready
	)
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if !sent {
				mu.Lock()
				tail = append(tail, line)
				if len(tail) > 20 {
					tail = tail[1:]
				}
				mu.Unlock()
				if strings.Contains(line, readyLine) {
					ready <- fieldValue(line, "url")
					sent = true
				}
			}
			fmt.Fprintln(log, line)
		}
		_, _ = io.Copy(log, stderr)
		p.err = cmd.Wait()
		close(p.done)
	}()
	select {
	case p.URL = <-ready:
		return p, nil
	case <-p.done:
		err = fmt.Errorf("bench: server exited before it was ready: %v", p.err)
	case <-ctx.Done():
		err = ctx.Err()
		_ = cmd.Process.Kill()
		<-p.done
	}
	mu.Lock()
	defer mu.Unlock()
	return nil, fmt.Errorf("%w\n%s", err, strings.Join(tail, "\n"))
}

// fieldValue finds key=value in a logfmt line.
func fieldValue(line, key string) string {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// Config reaches the server as its admin.
func (p *Process) Config() (*rest.Config, error) {
	return clientcmd.BuildConfigFromFlags("", p.Kubeconfig)
}

// CPUTime is the CPU time (user and system, all threads) the server has
// used so far, from /proc, to the kernel's 10 ms tick.
func (p *Process) CPUTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("bench: %w", err)
	}
	// Fields after the command's closing parenthesis, from field 3 (state):
	// utime and stime are fields 14 and 15, in clock ticks of 1/100 s.
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, fmt.Errorf("bench: unexpected /proc/%d/stat", p.cmd.Process.Pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("bench: /proc/%d/stat: %w", p.cmd.Process.Pid, err)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// SelfCPUTime is the CPU time (user and system) this process has used.
func SelfCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Stop asks the server to stop (SIGTERM), kills it after grace, and waits.
func (p *Process) Stop(grace time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	var exit *exec.ExitError
	if errors.As(p.err, &exit) && !exit.Exited() { // killed by our signal
		return nil
	}
	return p.err
}
