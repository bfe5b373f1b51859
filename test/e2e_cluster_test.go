package test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The end-to-end tests run the skiff binary as a user would — `skiff up` in
// a child process — and drive it with the real kubectl.

var skiffBuild struct {
	once sync.Once
	path string
	err  error
}

// skiffBinary builds cmd/skiff once per test process, into a directory
// named for the process, and removes the builds of processes that are gone.
func skiffBinary(t *testing.T) string {
	t.Helper()
	skiffBuild.once.Do(func() {
		removeStaleBuilds()
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("skiff-e2e-%d", os.Getpid()))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			skiffBuild.err = err
			return
		}
		path := filepath.Join(dir, "skiff")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		build := exec.CommandContext(ctx, "go", "build", "-o", path, "./cmd/skiff")
		build.Dir = ".."
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			skiffBuild.err = fmt.Errorf("go build ./cmd/skiff: %v\n%s", err, out)
			return
		}
		skiffBuild.path = path
	})
	if skiffBuild.err != nil {
		t.Fatal(skiffBuild.err)
	}
	return skiffBuild.path
}

// removeStaleBuilds deletes the binaries left by test processes that have
// exited.
func removeStaleBuilds() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "skiff-e2e-*"))
	for _, dir := range dirs {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(dir), "skiff-e2e-"))
		if err != nil {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			_ = os.RemoveAll(dir)
		}
	}
}

// cluster is one `skiff up` child process: control plane and one node on
// the process runtime.
type cluster struct {
	cmd        *exec.Cmd
	args       []string // the skiff binary and its arguments
	dataDir    string
	kubeconfig string
	url        string // the API server's
	node       string
	runtime    string        // as `up` reported it: process or cri
	out        *lockedBuffer // the child's stdout and stderr
	exited     chan struct{}
}

var (
	upLine     = regexp.MustCompile(`^skiff is up: API at (https://\S+)`)
	joinedLine = regexp.MustCompile(`^node (\S+) joined, runtime: (\S+)`)
)

// startCluster runs `skiff up` on free ports in a fresh data directory,
// waits until it says the API is up and the node has joined, and stops it
// when the test ends. The node uses the process runtime unless extra (more
// flags for `skiff up`) names another. It skips the
// test under -short and when kubectl is missing.
func startCluster(t *testing.T, extra ...string) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("builds skiff and runs a cluster")
	}
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not on PATH: the end-to-end tests drive the real kubectl (CI installs it)")
	}
	c := &cluster{dataDir: t.TempDir(), out: &lockedBuffer{}}
	c.kubeconfig = filepath.Join(c.dataDir, "admin.kubeconfig")
	c.args = append([]string{skiffBinary(t), "up", "--data-dir", c.dataDir, "--api-port", "0", "--kubelet-port", "0", "--runtime", "process"}, extra...)
	c.launch(t)
	t.Cleanup(func() { c.stop(t) })
	return c
}

// launch runs `skiff up` with c.args and waits until it says the API is up
// and the node has joined, and the node is Ready.
func (c *cluster) launch(t *testing.T) {
	t.Helper()
	c.exited = make(chan struct{})
	c.cmd = exec.Command(c.args[0], c.args[1:]...)
	c.cmd.Stderr = c.out
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM} // should the test binary die
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	up, joined := make(chan string, 1), make(chan string, 1)
	exited := c.exited
	go func() {
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			fmt.Fprintln(c.out, lines.Text())
			if m := upLine.FindStringSubmatch(lines.Text()); m != nil {
				up <- m[1]
			}
			if m := joinedLine.FindStringSubmatch(lines.Text()); m != nil {
				c.runtime = m[2]
				joined <- m[1]
			}
		}
		_ = c.cmd.Wait()
		close(exited)
	}()
	deadline := time.After(90 * time.Second)
	for _, want := range []chan string{up, joined} {
		select {
		case got := <-want:
			if want == joined {
				c.node = got
			} else {
				c.url = got
			}
		case <-exited:
			t.Fatalf("skiff up exited before it was up:\n%s", c.out)
		case <-deadline:
			t.Fatalf("skiff up did not say `skiff is up` and `node … joined, runtime: …` within 90s:\n%s", c.out)
		}
	}
	// "joined" is said once the agent runs; its Node object follows, and
	// kubectl wait fails at once on an object that does not exist yet.
	k := &kubectl{t: t, kubeconfig: c.kubeconfig}
	for wait := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := k.try("get", "node", c.node); err == nil {
			break
		}
		if time.Now().After(wait) {
			t.Fatalf("node %s was not registered within 30s of joining:\n%s", c.node, c.out)
		}
	}
	k.run("wait", "--for=condition=Ready", "node/"+c.node, "--timeout=50s")
}

// restart stops `skiff up` with SIGTERM and starts it again on the same
// data directory, as a user restarting it would.
func (c *cluster) restart(t *testing.T) {
	t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("skiff up did not exit within 60s of SIGTERM")
	}
	c.launch(t)
}

// workloads are the kinds whose controllers make pods.
const workloads = "deployments,replicasets,statefulsets,daemonsets,cronjobs,jobs"

// stop deletes every workload and pod so that no container process outlives the
// cluster (the runtime's shims outlive skiff, as containerd's do), stops
// skiff with SIGTERM and kills whatever is left, reporting it.
func (c *cluster) stop(t *testing.T) {
	k := &kubectl{t: t, kubeconfig: c.kubeconfig}
	// Workloads first (in the foreground: they are gone once their pods
	// are), or their controllers would replace the pods deleted below.
	if out, err := k.try("delete", workloads, "--all", "--all-namespaces", "--cascade=foreground", "--timeout=55s"); err != nil {
		t.Errorf("deleting the workloads left at the end: %v\n%s", err, out)
	}
	if out, err := k.try("delete", "pods", "--all", "--all-namespaces", "--timeout=55s"); err != nil {
		t.Errorf("deleting the pods left at the end: %v\n%s", err, out)
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(60 * time.Second):
		t.Errorf("skiff up did not exit within 60s of SIGTERM; killing it")
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
	if left := killLeftovers(c.dataDir); len(left) > 0 {
		t.Errorf("processes outlived the cluster and were killed: %s", strings.Join(left, "; "))
	}
	if t.Failed() {
		t.Logf("skiff up output (tail):\n%s", tail(c.out.String(), 150))
	}
}

// killLeftovers kills the runtime shims whose command line names dataDir,
// with the process groups of their children (the containers), and
// describes each.
func killLeftovers(dataDir string) []string {
	entries, _ := os.ReadDir("/proc")
	shims := map[int]string{}
	parents := map[int]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline")); err == nil && bytes.Contains(cmdline, []byte(dataDir+"/")) {
			shims[pid] = string(bytes.ReplaceAll(bytes.TrimRight(cmdline, "\x00"), []byte{0}, []byte{' '}))
		}
		if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil {
			// pid (comm) state ppid …; comm may hold spaces, so cut at the last ')'.
			if fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); len(fields) > 1 {
				parents[pid], _ = strconv.Atoi(fields[1])
			}
		}
	}
	var left []string
	for child, parent := range parents {
		if _, ok := shims[parent]; ok {
			left = append(left, fmt.Sprintf("container process %d", child))
			_ = syscall.Kill(-child, syscall.SIGKILL)
			_ = syscall.Kill(child, syscall.SIGKILL)
		}
	}
	for pid, cmdline := range shims {
		left = append(left, fmt.Sprintf("%d %s", pid, cmdline))
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	return left
}
