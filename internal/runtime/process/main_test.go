package process

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// The runtime re-executes its own binary as the supervisor; in tests that
// binary is the test binary, so TestMain dispatches the helper mode before
// running any test. The test agent mode (testAgentEnv) plays
// an agent that starts containers and exits, for the restart tests.
func TestMain(m *testing.M) {
	if HelperMode() == ModeSupervisor {
		SupervisorMain()
	}
	// Tests place their cgroups under a parent of their own, and remove it
	// at the end; the test agent (a child process) inherits its name.
	if os.Getenv(testCgroupEnv) == "" {
		os.Setenv(testCgroupEnv, fmt.Sprintf("skiff-test-%d", os.Getpid()))
	}
	if dir := os.Getenv(testAgentEnv); dir != "" {
		os.Exit(runTestAgent(dir))
	}
	code := m.Run()
	if parents, err := cgroupParents(testCgroupParent()); err == nil {
		for _, dir := range parents {
			os.Remove(dir)
		}
	}
	os.Exit(code)
}

const testCgroupEnv = "SKIFF_PROCESS_TEST_CGROUP"

// testCgroupParent is the cgroup parent of the tests' runtimes.
func testCgroupParent() string { return os.Getenv(testCgroupEnv) }

// testOptions are the options of a test runtime on dir.
func testOptions(t testing.TB, dir string) Options {
	return Options{Dir: dir, HostIP: testHostIP, CgroupParent: testCgroupParent(), Log: slog.New(slog.NewTextHandler(testWriter{t}, nil))}
}

const testHostIP = "192.0.2.10"

// newTestRuntime opens a runtime on a fresh directory.
func newTestRuntime(t testing.TB) *Runtime {
	t.Helper()
	return openTestRuntime(t, t.TempDir())
}

// openTestRuntime opens a runtime on dir and closes it when the test ends.
func openTestRuntime(t testing.TB, dir string) *Runtime {
	t.Helper()
	r, err := New(testOptions(t, dir))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// testPod makes a sandbox whose log directory is a temporary directory, and
// removes it (killing its containers) when the test ends.
func testPod(t testing.TB, r *Runtime, name string) (string, *runtimeapi.PodSandboxConfig) {
	t.Helper()
	config := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: name, Namespace: "default", Uid: "uid-" + name},
		Labels:       map[string]string{"pod": name},
		LogDirectory: t.TempDir(),
	}
	id, err := r.RunPodSandbox(t.Context(), config, "")
	if err != nil {
		t.Fatalf("RunPodSandbox: %v", err)
	}
	t.Cleanup(func() {
		if err := r.RemovePodSandbox(context.Background(), id); err != nil {
			t.Errorf("RemovePodSandbox: %v", err)
		}
	})
	return id, config
}

// shConfig is a container that runs script with sh.
func shConfig(name, script string) *runtimeapi.ContainerConfig {
	return &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: name},
		Image:    &runtimeapi.ImageSpec{Image: "busybox"},
		Command:  []string{"sh", "-c", script},
		Labels:   map[string]string{"container": name},
		LogPath:  name + "/0.log",
	}
}

// startContainer creates and starts a container.
func startContainer(t testing.TB, r *Runtime, sandbox string, sbConfig *runtimeapi.PodSandboxConfig, config *runtimeapi.ContainerConfig) string {
	t.Helper()
	id, err := r.CreateContainer(t.Context(), sandbox, config, sbConfig)
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	if err := r.StartContainer(t.Context(), id); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	return id
}

// waitExited waits for a container to exit and returns its status.
func waitExited(t *testing.T, r *Runtime, id string, within time.Duration) *runtimeapi.ContainerStatus {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		resp, err := r.ContainerStatus(t.Context(), id, false)
		if err != nil {
			t.Fatalf("ContainerStatus: %v", err)
		}
		if resp.Status.State == runtimeapi.ContainerState_CONTAINER_EXITED {
			return resp.Status
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s still %s after %s", id, resp.Status.State, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// containerState returns a container's CRI state.
func containerStateOf(t *testing.T, r *Runtime, id string) runtimeapi.ContainerState {
	t.Helper()
	resp, err := r.ContainerStatus(t.Context(), id, false)
	if err != nil {
		t.Fatalf("ContainerStatus: %v", err)
	}
	return resp.Status.State
}

// logEntry is one parsed line of a CRI log.
type logEntry struct {
	time        time.Time
	stream, tag string
	text        string
}

// readLog parses a CRI log file.
func readLog(t *testing.T, path string) []logEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open log: %v", err)
	}
	defer f.Close()
	var entries []logEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), " ", 4)
		if len(parts) != 4 {
			t.Fatalf("log line %q is not in the CRI format", sc.Text())
		}
		ts, err := time.Parse(time.RFC3339Nano, parts[0])
		if err != nil {
			t.Fatalf("log line %q: bad time: %v", sc.Text(), err)
		}
		entries = append(entries, logEntry{time: ts, stream: parts[1], tag: parts[2], text: parts[3]})
	}
	return entries
}

// logPath is where a container of sbConfig logs.
func logPath(sbConfig *runtimeapi.PodSandboxConfig, config *runtimeapi.ContainerConfig) string {
	return filepath.Join(sbConfig.LogDirectory, config.LogPath)
}
