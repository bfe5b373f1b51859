package process

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testBinaryEnv names a binary (a built skiff) to run the supervisor from,
// instead of the test binary, to measure what the real binary costs: SKIFF_PROCESS_TEST_BINARY=$(pwd)/skiff go test -run Memory -v.
const testBinaryEnv = "SKIFF_PROCESS_TEST_BINARY"

// raceDetector reports whether the test binary was built with -race.
func raceDetector() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// statusKB reads a field of /proc/<pid>/status, in kB.
func statusKB(t *testing.T, pid int, field string) int {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	t.Fatalf("/proc/%d/status has no %s", pid, field)
	return 0
}

func TestSupervisorMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 100 containers")
	}
	if raceDetector() {
		t.Skip("the race detector's shadow memory would be measured too")
	}
	if bin := os.Getenv(testBinaryEnv); bin != "" {
		old := self
		self = bin
		t.Cleanup(func() { self = old })
	}
	r := newTestRuntime(t)
	sb, sbConfig := testPod(t, r, "memory")
	sleeper := shConfig("sleep", "")
	sleeper.Command = []string{"sleep", "1000"}

	// A supervisor with no container left, held by the runtime's session.
	first := startContainer(t, r, sb, sbConfig, shConfig("first", "true"))
	waitExited(t, r, first, 5*time.Second)
	sup := supervisorOf(t, r, first)

	agentHeap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	heap0 := agentHeap()
	rss := map[int]int{}
	started := 0
	for _, n := range []int{0, 10, 100} {
		for ; started < n; started++ {
			startContainer(t, r, sb, sbConfig, sleeper)
		}
		// Give the supervisor's garbage from the starts time to be
		// collected and handed back, as it would be on a quiet node.
		time.Sleep(time.Second)
		rss[n] = statusKB(t, sup, "RssAnon")
		t.Logf("supervisor with %3d running containers: RssAnon %6d kB, VmRSS %6d kB, threads %d",
			n, rss[n], statusKB(t, sup, "VmRSS"), statusKB(t, sup, "Threads"))
	}
	perContainer := (rss[100] - rss[10]) * 1024 / 90
	t.Logf("supervisor: %d bytes of RssAnon per running container (10 → 100)", perContainer)
	t.Logf("agent side: %d bytes of Go heap per container (0 → 100)", (int64(agentHeap())-int64(heap0))/100)
	// The goal is well under 100 KB a container; fail only far above it,
	// since RssAnon moves with the garbage collector.
	if perContainer > 150<<10 {
		t.Errorf("the supervisor costs %d bytes per running container, want well under 100 KB", perContainer)
	}
}
