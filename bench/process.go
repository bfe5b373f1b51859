package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
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
// data in dataDir.
func ServerCommand(bin, dataDir string) *exec.Cmd {
	return exec.Command(bin, "server", "--data-dir", dataDir, "--api-port", "0", "--bind-address", "127.0.0.1")
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
				if strings.Contains(line, ReadyLine) {
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

// Signal sends sig to the server.
func (p *Process) Signal(sig syscall.Signal) error { return p.cmd.Process.Signal(sig) }

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
