package process

import (
	"bufio"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Cgroups: the process runtime uses the cgroup v1 controllers mounted at
// /sys/fs/cgroup/<controller> (the cgroupfs layout). Each pod gets a
// directory <parent>/pod-<sandbox id> in every controller it uses, and each
// container a directory below its pod's. <parent> is Options.CgroupParent,
// taken relative to the runtime's own cgroup in that controller, so a
// runtime that is itself confined (by systemd, or a test harness) keeps its
// containers inside its own confinement. Records keep the absolute
// directories, so a runtime restarted in another cgroup still finds them.
//
// On a host with only cgroup v2 the runtime runs containers without cgroups
// and refuses those that ask for limits.

// cgroupRoot is where the controllers are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// controllers are the cgroup v1 controllers a container is placed in.
var controllers = []string{"memory", "cpu", "pids"}

// cgroupParents finds, for each controller, the directory under which pods
// are placed: the runtime's own cgroup joined with parent. It returns an
// error when a controller is not mounted as cgroup v1.
func cgroupParents(parent string) (map[string]string, error) {
	if _, err := os.Stat(filepath.Join(cgroupRoot, "cgroup.controllers")); err == nil {
		return nil, errors.New("process: this host has only cgroup v2, which the process runtime does not drive yet")
	}
	own, err := ownCgroups()
	if err != nil {
		return nil, err
	}
	dirs := map[string]string{}
	for _, c := range controllers {
		mount := filepath.Join(cgroupRoot, c)
		if _, err := os.Stat(filepath.Join(mount, "cgroup.procs")); err != nil {
			return nil, fmt.Errorf("process: cgroup v1 controller %q is not mounted at %s", c, mount)
		}
		dirs[c] = filepath.Join(mount, own[c], parent)
	}
	return dirs, nil
}

// ownCgroups reads /proc/self/cgroup: controller → path in its hierarchy.
func ownCgroups() (map[string]string, error) {
	return readCgroups("/proc/self/cgroup")
}

// readCgroups reads a /proc cgroup file: controller → path in its hierarchy.
func readCgroups(file string) (map[string]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("process: read own cgroups: %w", err)
	}
	defer f.Close()
	own := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// hierarchy-id:controller-list:path
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c != "" {
				own[c] = parts[2]
			}
		}
	}
	return own, sc.Err()
}

// childCgroups returns the directories named name below each of parents.
func childCgroups(parents map[string]string, name string) map[string]string {
	dirs := make(map[string]string, len(parents))
	for c, p := range parents {
		dirs[c] = filepath.Join(p, name)
	}
	return dirs
}

// createCgroups makes the directories and applies res to them.
func createCgroups(dirs map[string]string, res resources) error {
	for _, dir := range dirs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("process: create cgroup: %w", err)
		}
	}
	var writes []cgroupWrite
	if mem := dirs["memory"]; mem != "" && res.MemoryLimit > 0 {
		v := strconv.FormatInt(res.MemoryLimit, 10)
		writes = append(writes, cgroupWrite{mem, "memory.limit_in_bytes", v, false})
		// Without a memory+swap limit a process over its limit swaps
		// instead of being killed; kubelet's containers get no swap.
		writes = append(writes, cgroupWrite{mem, "memory.memsw.limit_in_bytes", v, true})
	}
	if cpu := dirs["cpu"]; cpu != "" {
		if res.CPUPeriod > 0 {
			writes = append(writes, cgroupWrite{cpu, "cpu.cfs_period_us", strconv.FormatInt(res.CPUPeriod, 10), false})
		}
		if res.CPUQuota > 0 {
			writes = append(writes, cgroupWrite{cpu, "cpu.cfs_quota_us", strconv.FormatInt(res.CPUQuota, 10), false})
		}
		if res.CPUShares > 0 {
			writes = append(writes, cgroupWrite{cpu, "cpu.shares", strconv.FormatInt(res.CPUShares, 10), false})
		}
	}
	if pids := dirs["pids"]; pids != "" && res.PidsLimit > 0 {
		writes = append(writes, cgroupWrite{pids, "pids.max", strconv.FormatInt(res.PidsLimit, 10), false})
	}
	for _, w := range writes {
		if err := w.apply(); err != nil {
			return err
		}
	}
	return nil
}

// cgroupWrite is one value written to one cgroup file.
type cgroupWrite struct {
	dir, file, value string
	optional         bool // the kernel may lack the file (no swap accounting)
}

func (w cgroupWrite) apply() error {
	err := os.WriteFile(filepath.Join(w.dir, w.file), []byte(w.value), 0)
	if err != nil && !(w.optional && errors.Is(err, os.ErrNotExist)) {
		return fmt.Errorf("process: set %s to %s: %w", w.file, w.value, err)
	}
	return nil
}

// joinCgroups moves the calling thread, which must be locked to its
// goroutine, into dirs (controller → directory); cgroup v1 moves a thread
// alone when its id is written to a controller's tasks file. leave moves
// the thread back where it was. The memory cgroup is joined last and left
// first (see spawn.go).
func joinCgroups(dirs map[string]string) (leave func(), err error) {
	if len(dirs) == 0 {
		return func() {}, nil
	}
	own, err := readCgroups("/proc/thread-self/cgroup")
	if err != nil {
		return nil, err
	}
	order := slices.Sorted(maps.Keys(dirs))
	if i := slices.Index(order, "memory"); i >= 0 {
		order = append(slices.Delete(order, i, i+1), "memory")
	}
	back := make([]string, len(order))
	for i, c := range order {
		if _, ok := own[c]; !ok {
			return nil, fmt.Errorf("process: join cgroup %s: this thread is in no %s cgroup", dirs[c], c)
		}
		back[i] = filepath.Join(cgroupRoot, c, own[c], "tasks")
	}
	tid := []byte(strconv.Itoa(unix.Gettid()))
	joined := 0
	leave = func() {
		for i := joined - 1; i >= 0; i-- {
			os.WriteFile(back[i], tid, 0)
		}
	}
	for _, c := range order {
		if err := os.WriteFile(filepath.Join(dirs[c], "tasks"), tid, 0); err != nil {
			leave()
			return nil, fmt.Errorf("process: join cgroup %s: %w", dirs[c], err)
		}
		joined++
	}
	return leave, nil
}

// cgroupPids lists the processes in dir: those whose main thread is in it.
// cgroup.procs also names a process only one thread of which is in dir:
// the runtime or the supervisor for an instant, while a thread of theirs
// starts a command there (spawn.go), and never with its main thread.
func cgroupPids(dir string) []int {
	tasks := readIDs(filepath.Join(dir, "tasks"))
	var pids []int
	for _, pid := range readIDs(filepath.Join(dir, "cgroup.procs")) {
		if slices.Contains(tasks, pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// readIDs reads a cgroup file of process or thread ids.
func readIDs(file string) []int {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var ids []int
	for _, f := range strings.Fields(string(data)) {
		if id, err := strconv.Atoi(f); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// killCgroup sends SIGKILL to every process in dir until it is empty or a
// second has passed (processes may fork while being killed).
func killCgroup(dir string) {
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		pids := cgroupPids(dir)
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			if pid != os.Getpid() {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// oomKills reads how many processes the kernel's OOM killer has killed in
// the memory cgroup dir. Kernels before 4.13 do not count kills; there, a
// cgroup that is under OOM or has hit its limit counts as one.
func oomKills(dir string) int {
	data, err := os.ReadFile(filepath.Join(dir, "memory.oom_control"))
	if err != nil {
		return 0
	}
	counted := false
	for _, line := range strings.Split(string(data), "\n") {
		key, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(strings.TrimSpace(value))
		switch key {
		case "oom_kill":
			return n
		case "under_oom":
			counted = counted || n > 0
		}
	}
	if counted {
		return 1
	}
	return 0
}

// removeCgroups deletes the directories, waiting briefly for processes that
// are still exiting.
func removeCgroups(dirs map[string]string) error {
	var errs []error
	for _, dir := range dirs {
		var err error
		for range 50 {
			err = os.Remove(dir)
			if err == nil || errors.Is(err, os.ErrNotExist) {
				err = nil
				break
			}
			killCgroup(dir)
			time.Sleep(10 * time.Millisecond)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("process: remove cgroup: %w", err))
		}
	}
	return errors.Join(errs...)
}
