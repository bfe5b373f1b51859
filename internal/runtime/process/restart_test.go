package process

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// testAgentEnv makes the test binary play an agent: it opens a runtime on
// the directory the variable names, starts a pod with two containers,
// prints their ids and exits without stopping anything.
const testAgentEnv = "SKIFF_PROCESS_TEST_AGENT"

type agentIDs struct {
	Sandbox, Long, Short string
}

func runTestAgent(dir string) int {
	ctx := context.Background()
	r, err := New(Options{Dir: dir, HostIP: testHostIP, CgroupParent: testCgroupParent()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	sbConfig := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: "survivor", Namespace: "default", Uid: "u1"},
		LogDirectory: filepath.Join(dir, "logs"),
	}
	var ids agentIDs
	if ids.Sandbox, err = r.RunPodSandbox(ctx, sbConfig, ""); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, c := range []struct {
		id     *string
		config *runtimeapi.ContainerConfig
	}{
		{&ids.Long, shConfig("long", "echo started; sleep 100")},
		{&ids.Short, shConfig("short", "sleep 0.3; exit 7")},
	} {
		if *c.id, err = r.CreateContainer(ctx, ids.Sandbox, c.config, sbConfig); err == nil {
			err = r.StartContainer(ctx, *c.id)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	json.NewEncoder(os.Stdout).Encode(ids)
	return 0
}

func TestContainersSurviveTheAgent(t *testing.T) {
	// The supervisor, orphaned by the agent's exit, is reparented to this
	// process (not to the host's init), which reaps it when it ends.
	becomeSubreaper(t)
	dir := t.TempDir()
	agent := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	agent.Env = append(os.Environ(), testAgentEnv+"="+dir)
	agent.Stderr = testWriter{t}
	out, err := agent.Output()
	if err != nil {
		t.Fatalf("the test agent failed: %v", err)
	}
	var ids agentIDs
	if err := json.Unmarshal(out, &ids); err != nil {
		t.Fatalf("the test agent said %q: %v", out, err)
	}
	// Let the short container end while no agent runs.
	time.Sleep(700 * time.Millisecond)

	r := openTestRuntime(t, dir)
	t.Cleanup(func() {
		r.RemovePodSandbox(context.Background(), ids.Sandbox)
		reapAll()
	})
	sandboxes, err := r.ListPodSandbox(t.Context(), nil)
	if err != nil || len(sandboxes) != 1 || sandboxes[0].Id != ids.Sandbox || sandboxes[0].State != runtimeapi.PodSandboxState_SANDBOX_READY {
		t.Fatalf("sandboxes after restart = %v (%v), want the agent's one, ready", sandboxes, err)
	}
	containers, err := r.ListContainers(t.Context(), nil)
	if err != nil || len(containers) != 2 {
		t.Fatalf("containers after restart = %v (%v), want the agent's two", containers, err)
	}
	states := map[string]runtimeapi.ContainerState{}
	for _, c := range containers {
		states[c.Id] = c.State
	}
	if states[ids.Long] != runtimeapi.ContainerState_CONTAINER_RUNNING || states[ids.Short] != runtimeapi.ContainerState_CONTAINER_EXITED {
		t.Errorf("states after restart = %v, want long running and short exited", states)
	}
	if st := waitExited(t, r, ids.Short, time.Second); st.ExitCode != 7 || st.Reason != "Error" {
		t.Errorf("short container: exit %d %q, want 7 Error", st.ExitCode, st.Reason)
	}

	// A second runtime on the same directory sees the same, once.
	again := openTestRuntime(t, dir)
	if list, _ := again.ListContainers(t.Context(), nil); len(list) != 2 {
		t.Errorf("a second runtime lists %d containers, want 2", len(list))
	}

	// The new runtime uses the supervisor the agent started.
	first := supervisorOf(t, r, ids.Long)
	sbConfig := &runtimeapi.PodSandboxConfig{Metadata: &runtimeapi.PodSandboxMetadata{Name: "survivor"}, LogDirectory: filepath.Join(dir, "logs")}
	next := startContainer(t, r, ids.Sandbox, sbConfig, shConfig("next", "sleep 100"))
	if got := supervisorOf(t, r, next); got != first {
		t.Errorf("a container started after the restart has supervisor %d, want the running one, %d", got, first)
	}
	if n := countSupervisors(dir); n != 1 {
		t.Errorf("%d supervisors serve the directory, want 1", n)
	}

	if err := r.StopContainer(t.Context(), ids.Long, 5); err != nil {
		t.Fatalf("StopContainer after restart: %v", err)
	}
	st := waitExited(t, r, ids.Long, time.Second)
	if st.ExitCode != 143 {
		t.Errorf("long container stopped after restart: exit %d, want 143", st.ExitCode)
	}
	entries := readLog(t, st.LogPath)
	if len(entries) != 1 || entries[0].text != "started" {
		t.Errorf("long container's log = %v, want one line \"started\"", entries)
	}
}

// becomeSubreaper makes the test process the subreaper of what its
// children orphan, so that no process of a test is left to the host.
func becomeSubreaper(t *testing.T) {
	t.Helper()
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatalf("become subreaper: %v", err)
	}
}

// reapAll reaps whatever children have exited.
func reapAll() {
	for range 100 {
		var ws syscall.WaitStatus
		if pid, _ := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 {
			return
		}
	}
}

func TestAKilledSupervisorsContainersRunOnButOnce(t *testing.T) {
	becomeSubreaper(t)
	t.Cleanup(reapAll)
	r := newTestRuntime(t)
	sb, sbConfig := testPod(t, r, "lost")
	runs := filepath.Join(t.TempDir(), "runs")
	long := startContainer(t, r, sb, sbConfig, shConfig("long", "echo $$ >> "+runs+"; exec sleep 100"))
	short := startContainer(t, r, sb, sbConfig, shConfig("short", "sleep 0.5"))
	sup := supervisorOf(t, r, long)
	start, _, _ := procStart(sup)

	if err := syscall.Kill(sup, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); alive(sup, start) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := os.Lstat(filepath.Join(r.opts.Dir, supervisorSocket)); err != nil {
		t.Fatalf("the killed supervisor left no socket behind (%v); the test wants a stale one", err)
	}
	if s := containerStateOf(t, r, long); s != runtimeapi.ContainerState_CONTAINER_RUNNING {
		t.Fatalf("with its supervisor gone but its process alive, the container is %s, want running", s)
	}

	// A container that ends without its supervisor is recorded as lost.
	got := waitExited(t, r, short, 5*time.Second)
	if got.ExitCode != 255 || got.Message != lostMessage {
		t.Errorf("a container that ended after its supervisor: %d %q, want 255 and %q", got.ExitCode, got.Message, lostMessage)
	}

	// The next start brings a new supervisor (over the stale socket),
	// which leaves the lost container alone.
	next := startContainer(t, r, sb, sbConfig, shConfig("next", "sleep 100"))
	if s := supervisorOf(t, r, next); s == sup || s == 0 {
		t.Errorf("the next container's supervisor is %d, want a new one (the old was %d)", s, sup)
	}
	if n := countSupervisors(r.opts.Dir); n != 1 {
		t.Errorf("%d supervisors serve the directory, want 1", n)
	}
	if data, _ := os.ReadFile(runs); strings.Count(string(data), "\n") != 1 {
		t.Errorf("the lost container's command ran %d times, want once", strings.Count(string(data), "\n"))
	}
	if list, _ := r.ListContainers(t.Context(), nil); len(list) != 3 {
		t.Errorf("containers = %d, want 3", len(list))
	}
	if err := r.StartContainer(t.Context(), long); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("starting the lost, running container again: err = %v, want FailedPrecondition", err)
	}
	if _, err := r.Attach(t.Context(), &runtimeapi.AttachRequest{ContainerId: long, Stdout: true}); err != nil {
		t.Fatalf("Attach URL: %v", err)
	}
	if err := (streamRuntime{r}).Attach(t.Context(), long, nil, nopWriteCloser{}, nil, false, nil); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("attaching to a lost container: err = %v, want FailedPrecondition", err)
	}

	// Stopping it signals its process directly.
	if err := r.StopContainer(t.Context(), long, 1); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	got = waitExited(t, r, long, time.Second)
	if got.ExitCode != 255 || got.Message != lostMessage {
		t.Errorf("status = %d %q, want 255 and %q", got.ExitCode, got.Message, lostMessage)
	}

	// Records from an earlier boot of the host describe nothing that runs.
	c, _ := r.container(next)
	st, _ := r.state(c)
	stale := st
	stale.BootID = "an-earlier-boot"
	writeJSON(filepath.Join(c.dir, stateFile), stale)
	c2 := &container{rec: c.rec, dir: c.dir}
	if _, s := r.state(c2); s != runtimeapi.ContainerState_CONTAINER_EXITED {
		t.Errorf("a container recorded in an earlier boot is %s, want exited", s)
	}
	// Put the truth back, so that the test's cleanup stops the container.
	writeJSON(filepath.Join(c.dir, stateFile), st)
}

type nopWriteCloser struct{}

func (nopWriteCloser) Write(p []byte) (int, error) { return len(p), nil }
func (nopWriteCloser) Close() error                { return nil }
