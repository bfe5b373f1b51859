package process

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These tests start commands with spawn in the test process itself, as the
// runtime does for ExecSync, and look at what it leaves behind. They need
// root.

// testCgroups makes a cgroup named name in each controller, below the
// tests' parent, and removes them when the test ends.
func testCgroups(t *testing.T, name string) map[string]string {
	t.Helper()
	needRoot(t, nil)
	parents, err := cgroupParents(testCgroupParent())
	if err != nil {
		t.Skipf("needs cgroup v1: %v", err)
	}
	dirs := childCgroups(parents, name)
	if err := createCgroups(dirs, resources{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := removeCgroups(dirs); err != nil {
			t.Error(err)
		}
	})
	return dirs
}

func TestSpawnLeavesNoThreadChanged(t *testing.T) {
	dirs := testCgroups(t, "spawn-threads")
	volume := t.TempDir()
	proc, err := spawn(spawnSpec{
		argv:    []string{"sleep", "100"},
		cgroups: dirs,
		mounts:  []mountSpec{{HostPath: volume, ContainerPath: filepath.Join(t.TempDir(), "data")}},
	}, commandIO{})
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Wait()
	defer proc.Kill()

	// The command is in the cgroups and a mount namespace of its own.
	pid := strconv.Itoa(proc.Pid)
	for c, dir := range dirs {
		// The thread that forked it left before spawn returned.
		if tasks := readIDs(filepath.Join(dir, "tasks")); !slices.Equal(tasks, []int{proc.Pid}) {
			t.Errorf("%s cgroup holds tasks %v, want only the command %d", c, tasks, proc.Pid)
		}
	}
	own, _ := os.Readlink("/proc/self/ns/mnt")
	if ns, _ := os.Readlink("/proc/" + pid + "/ns/mnt"); ns == own {
		t.Errorf("the command is in the test's mount namespace %s", ns)
	}

	// No thread of this process stays in another mount namespace: the one
	// that made it ends (soon after spawn returns).
	var changed []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		changed = nil
		tasks, _ := filepath.Glob("/proc/self/task/*/ns/mnt")
		for _, task := range tasks {
			if ns, err := os.Readlink(task); err == nil && ns != own {
				changed = append(changed, task)
			}
		}
		if len(changed) == 0 {
			break
		}
	}
	if len(changed) > 0 {
		t.Errorf("threads of the test process are left in another mount namespace: %v", changed)
	}
}

func TestCgroupPidsIgnoresAThreadPassingThrough(t *testing.T) {
	dirs := testCgroups(t, "spawn-passing")
	var procs, pids []int
	onOwnThread(func() {
		leave, err := joinCgroups(dirs)
		if err != nil {
			t.Error(err)
			return
		}
		defer leave()
		procs = readIDs(filepath.Join(dirs["memory"], "cgroup.procs"))
		pids = cgroupPids(dirs["memory"])
	})
	if !slices.Contains(procs, os.Getpid()) {
		t.Fatalf("with a thread of the test in it, cgroup.procs = %v, want it to name the test's pid %d", procs, os.Getpid())
	}
	// killCgroup kills what cgroupPids lists: never the runtime.
	if len(pids) != 0 {
		t.Errorf("cgroupPids = %v with only a thread of the test passing through, want none", pids)
	}
}

func TestNothingOfTheRuntimeIsChargedToAContainer(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the kernel's memory statistics")
	}
	dirs := testCgroups(t, "spawn-charges")
	if out, err := exec.Command("true").CombinedOutput(); err != nil { // in the page cache now
		t.Fatalf("true: %v %s", err, out)
	}
	const starts = 200
	for range starts {
		proc, err := spawn(spawnSpec{argv: []string{"true"}, cgroups: dirs}, commandIO{})
		if err != nil {
			t.Fatal(err)
		}
		proc.Wait()
	}
	// A thread in the container's cgroups that touches fresh memory of
	// the process: the kernel charges it to the main thread's cgroup.
	var fresh []byte
	onOwnThread(func() {
		leave, err := joinCgroups(dirs)
		if err != nil {
			t.Error(err)
			return
		}
		defer leave()
		fresh = make([]byte, 16<<20)
		for i := 0; i < len(fresh); i += 4096 {
			fresh[i] = 1
		}
	})
	// Every command has ended: what is still charged to the cgroup are
	// pages of the test process. The kernel updates memory.stat every 2
	// seconds.
	time.Sleep(2500 * time.Millisecond)
	data, err := os.ReadFile(filepath.Join(dirs["memory"], "memory.stat"))
	if err != nil {
		t.Fatal(err)
	}
	charged := map[string]int{}
	for _, line := range strings.Split(string(data), "\n") {
		if key, value, ok := strings.Cut(line, " "); ok && (key == "rss" || key == "cache") {
			charged[key], _ = strconv.Atoi(value)
		}
	}
	t.Logf("after %d starts and 16 MiB touched: %v bytes charged", starts, charged)
	if total := charged["rss"] + charged["cache"]; total > 1<<20 {
		t.Errorf("%d bytes of the test process are charged to the container's memory cgroup", total)
	}
	runtime.KeepAlive(fresh)
}
