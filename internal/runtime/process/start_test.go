package process

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// BenchmarkStartContainer starts b.N containers of `sleep 1000`, created
// beforehand, one after another, and reports per start: the wall time of
// StartContainer, and the CPU time it cost the runtime (this process), the
// supervisor and the container's own process until the measure ends (where
// the start-up of an init step would show). As root each container has
// cgroups; "volume" gives each a bind mount too, so a mount namespace of
// its own. With
// SKIFF_PROCESS_TEST_BINARY the supervisor is a built skiff, as in
// production. Run with -benchtime 200x.
func BenchmarkStartContainer(b *testing.B) {
	b.Run("plain", func(b *testing.B) { benchmarkStart(b, false) })
	b.Run("volume", func(b *testing.B) { benchmarkStart(b, true) })
}

func benchmarkStart(b *testing.B, volume bool) {
	if volume && os.Geteuid() != 0 {
		b.Skip("volumes need root")
	}
	if bin := os.Getenv(testBinaryEnv); bin != "" {
		old := self
		self = bin
		b.Cleanup(func() { self = old })
	}
	r := newTestRuntime(b)
	sb, sbConfig := testPod(b, r, "start")
	// The supervisor starts with a first container, outside the measure.
	first := startContainer(b, r, sb, sbConfig, shConfig("first", "sleep 1000"))
	sup := supervisorOf(b, r, first)

	config := shConfig("sleep", "")
	config.Command = []string{"sleep", "1000"}
	if volume {
		config.Mounts = []*runtimeapi.Mount{{HostPath: b.TempDir(), ContainerPath: filepath.Join(b.TempDir(), "data"), Readonly: true}}
	}
	ids := make([]string, b.N)
	for i := range ids {
		id, err := r.CreateContainer(b.Context(), sb, config, sbConfig)
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = id
	}

	supBefore := procCPU(sup)
	selfBefore := ownCPU()
	b.ResetTimer()
	for _, id := range ids {
		if err := r.StartContainer(b.Context(), id); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	selfCPU := ownCPU() - selfBefore
	supCPU := procCPU(sup) - supBefore
	var containerCPU time.Duration
	for _, id := range ids {
		c, _ := r.container(id)
		st, _ := r.state(c)
		containerCPU += taskCPU(st.PID)
	}
	perStart := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N) }
	b.ReportMetric(perStart(selfCPU), "runtime-cpu-us/start")
	b.ReportMetric(perStart(supCPU), "supervisor-cpu-us/start")
	b.ReportMetric(perStart(containerCPU), "container-cpu-us/start")
	b.ReportMetric(perStart(selfCPU+supCPU+containerCPU), "total-cpu-us/start")
}

// procCPU is the CPU time process pid has used, with that of its reaped
// children, from /proc/<pid>/stat (utime, stime, cutime and cstime, in
// clock ticks of 10 ms).
func procCPU(pid int) time.Duration {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	fields := bytes.Fields(data[bytes.LastIndexByte(data, ')')+1:])
	var ticks int64
	// fields[0] is field 3 of the file; utime … cstime are fields 14–17.
	for _, f := range fields[11:15] {
		n, _ := strconv.ParseInt(string(f), 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// taskCPU is the CPU time the main thread of process pid has used, in
// nanoseconds from /proc/<pid>/schedstat: exact where /proc/<pid>/stat
// counts in ticks, which a process that runs for less than one shows as 0.
func taskCPU(pid int) time.Duration {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/schedstat")
	if err != nil {
		return 0
	}
	fields := bytes.Fields(data)
	if len(fields) == 0 {
		return 0
	}
	ns, _ := strconv.ParseInt(string(fields[0]), 10, 64)
	return time.Duration(ns)
}

// ownCPU is the CPU time this process has used.
func ownCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
