package process

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// These tests need root: cgroups and mount namespaces.

func needRoot(t *testing.T, r *Runtime) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (cgroups and mount namespaces)")
	}
	if r != nil && r.cgroupParents == nil {
		t.Skipf("needs cgroup v1: %v", r.noCgroups)
	}
}

func TestMemoryLimitKillsWithOOMKilled(t *testing.T) {
	needRoot(t, nil)
	r := newTestRuntime(t)
	needRoot(t, r)
	sb, sbConfig := testPod(t, r, "oom")
	config := shConfig("hog", "")
	// dd allocates its 64 MiB block and fills it: four times the limit.
	config.Command = []string{"dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1"}
	config.Linux = &runtimeapi.LinuxContainerConfig{Resources: &runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 16 << 20}}
	id := startContainer(t, r, sb, sbConfig, config)
	st := waitExited(t, r, id, 10*time.Second)
	if st.Reason != "OOMKilled" || st.ExitCode != 137 {
		t.Errorf("a container over its memory limit ended %d %q, want 137 OOMKilled", st.ExitCode, st.Reason)
	}

	// The same command with room to spare completes.
	config.Linux.Resources.MemoryLimitInBytes = 256 << 20
	id = startContainer(t, r, sb, sbConfig, config)
	if st := waitExited(t, r, id, 10*time.Second); st.Reason != "Completed" {
		t.Errorf("a container within its memory limit ended %d %q, want Completed", st.ExitCode, st.Reason)
	}
}

func TestCgroupLimitsAreApplied(t *testing.T) {
	needRoot(t, nil)
	r := newTestRuntime(t)
	needRoot(t, r)
	sb, sbConfig := testPod(t, r, "limits")
	config := shConfig("limited", "")
	config.Command = []string{"sleep", "100"}
	config.Linux = &runtimeapi.LinuxContainerConfig{Resources: &runtimeapi.LinuxContainerResources{
		MemoryLimitInBytes: 64 << 20, CpuPeriod: 100000, CpuQuota: 50000, CpuShares: 512, OomScoreAdj: 500,
	}}
	id := startContainer(t, r, sb, sbConfig, config)
	c, _ := r.container(id)
	st, _ := r.state(c)
	for _, tc := range []struct{ controller, file, want string }{
		{"memory", "memory.limit_in_bytes", "67108864"},
		{"cpu", "cpu.cfs_quota_us", "50000"},
		{"cpu", "cpu.cfs_period_us", "100000"},
		{"cpu", "cpu.shares", "512"},
	} {
		data, err := os.ReadFile(filepath.Join(c.rec.Cgroups[tc.controller], tc.file))
		if got := strings.TrimSpace(string(data)); err != nil || got != tc.want {
			t.Errorf("%s = %q (%v), want %s", tc.file, got, err, tc.want)
		}
	}
	for _, controller := range controllers {
		// tasks, not cgroup.procs: no thread of the supervisor is left there.
		if tasks := readIDs(filepath.Join(c.rec.Cgroups[controller], "tasks")); len(tasks) != 1 || tasks[0] != st.PID {
			t.Errorf("%s cgroup holds tasks %v, want the container's process %d", controller, tasks, st.PID)
		}
	}
	if data, _ := os.ReadFile("/proc/" + strconv.Itoa(st.PID) + "/oom_score_adj"); strings.TrimSpace(string(data)) != "500" {
		t.Errorf("oom_score_adj = %q, want 500", data)
	}
	// ExecSync runs in the same cgroups.
	out, _, err := r.ExecSync(t.Context(), id, []string{"cat", "/proc/self/cgroup"}, 5*time.Second)
	if err != nil || !strings.Contains(string(out), filepath.Base(c.rec.Cgroups["memory"])) {
		t.Errorf("ExecSync's cgroups = %q (%v), want the container's", out, err)
	}
	if err := r.RemoveContainer(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	for _, dir := range c.rec.Cgroups {
		if exists(dir) {
			t.Errorf("cgroup %s is left after RemoveContainer", dir)
		}
	}
}

func TestPodPidsLimit(t *testing.T) {
	needRoot(t, nil)
	opts := testOptions(t, t.TempDir())
	opts.PodPidsLimit = 50
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	needRoot(t, r)
	sb, _ := testPod(t, r, "pids")
	r.mu.Lock()
	dir := r.sandboxes[sb].Cgroups["pids"]
	r.mu.Unlock()
	if data, _ := os.ReadFile(filepath.Join(dir, "pids.max")); strings.TrimSpace(string(data)) != "50" {
		t.Errorf("pod pids.max = %q, want 50", data)
	}
}

func TestVolumesAreSeenOnlyInsideTheContainer(t *testing.T) {
	needRoot(t, nil)
	r := newTestRuntime(t)
	needRoot(t, r)
	sb, sbConfig := testPod(t, r, "volumes")

	volume := t.TempDir()
	os.WriteFile(filepath.Join(volume, "file"), []byte("from the volume"), 0o644)
	host := t.TempDir()
	missing := filepath.Join(host, "config", "app") // does not exist yet
	existing := filepath.Join(host, "hosts")        // a host file to cover
	os.WriteFile(existing, []byte("the host's own"), 0o644)
	fileVolume := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(fileVolume, []byte("the pod's"), 0o644)

	config := shConfig("reader", `cat `+missing+`/file; echo; cat `+existing+`; echo; touch `+missing+`/new 2>/dev/null && echo writable || echo read-only; sleep 100`)
	config.Mounts = []*runtimeapi.Mount{
		{HostPath: volume, ContainerPath: missing, Readonly: true},
		{HostPath: fileVolume, ContainerPath: existing},
	}
	config.WorkingDir = missing // exists only inside, under a mount
	id := startContainer(t, r, sb, sbConfig, config)

	want := []string{"from the volume", "the pod's", "read-only"}
	var got []string
	for deadline := time.Now().Add(5 * time.Second); len(got) < len(want) && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		got = nil
		for _, e := range readLog(t, logPath(sbConfig, config)) {
			got = append(got, e.text)
		}
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("inside the container: %q, want %q", got, want)
	}

	// Outside, the host's tree is as it was, but for the new mount point.
	if data, _ := os.ReadFile(existing); string(data) != "the host's own" {
		t.Errorf("the host's file reads %q after the container covered it", data)
	}
	if entries, err := os.ReadDir(missing); err != nil || len(entries) != 0 {
		t.Errorf("outside, the mount point %s holds %v (%v), want an empty directory", missing, entries, err)
	}

	// ExecSync sees the container's mounts: it runs in its mount namespace.
	out, _, err := r.ExecSync(t.Context(), id, []string{"cat", "file", existing}, 5*time.Second)
	if err != nil || string(out) != "from the volumethe pod's" {
		t.Errorf("ExecSync in the container's mounts: %q (%v)", out, err)
	}
	c, _ := r.container(id)
	st, _ := r.state(c)
	ns, _ := os.Readlink("/proc/" + strconv.Itoa(st.PID) + "/ns/mnt")
	out, _, err = r.ExecSync(t.Context(), id, []string{"readlink", "/proc/self/ns/mnt"}, 5*time.Second)
	if err != nil || strings.TrimSpace(string(out)) != ns {
		t.Errorf("ExecSync's mount namespace: %q (%v), want the container's %s", out, err, ns)
	}
}
