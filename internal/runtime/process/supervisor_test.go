package process

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// supervisorOf returns the pid of the supervisor that started container id.
func supervisorOf(t testing.TB, r *Runtime, id string) int {
	t.Helper()
	c, err := r.container(id)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := r.state(c)
	return st.SupervisorPID
}

// supervisors lists the live (not zombie) supervisor processes of dir.
func supervisors(dir string) []int {
	var pids []int
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(data, []byte("skiff-supervisor\x00"+dir+"\x00")) {
			continue
		}
		pid, _ := strconv.Atoi(strings.Split(p, "/")[2])
		if _, zombie, err := procStart(pid); err == nil && !zombie {
			pids = append(pids, pid)
		}
	}
	return pids
}

func countSupervisors(dir string) int { return len(supervisors(dir)) }

func TestOneSupervisorPerDirectory(t *testing.T) {
	dir := t.TempDir()
	// Two runtimes on one directory, neither finding a supervisor, start
	// containers at once.
	first := openTestRuntime(t, dir)
	second := openTestRuntime(t, dir)
	sb, sbConfig := testPod(t, first, "race")
	second.load()
	var ids []string
	for range 3 {
		for _, r := range []*Runtime{first, second} {
			id, err := r.CreateContainer(t.Context(), sb, shConfig("c", "sleep 100"), sbConfig)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
	}
	// Each learns of the other's sandbox and containers.
	first.load()
	second.load()
	var wg sync.WaitGroup
	errs := make([]error, len(ids))
	for i, id := range ids {
		r := []*Runtime{first, second}[i%2]
		wg.Go(func() { errs[i] = r.StartContainer(t.Context(), id) })
	}
	wg.Wait()
	pids := map[int]bool{}
	for i, id := range ids {
		if errs[i] != nil {
			t.Errorf("StartContainer: %v", errs[i])
			continue
		}
		pids[supervisorOf(t, first, id)] = true
	}
	if len(pids) != 1 {
		t.Errorf("the containers name supervisors %v, want one", pids)
	}
	if got := supervisors(dir); len(got) != 1 {
		t.Errorf("supervisor processes of the directory: %v, want one", got)
	}
}

func TestASecondSupervisorFindsTheDirectoryBusy(t *testing.T) {
	dir := t.TempDir()
	c := &supervisorClient{dir: dir, log: testOptions(t, dir).Log}
	for _, want := range []string{"ok", "busy"} {
		if msg, err := c.startSupervisor(); err != nil || msg != want {
			t.Fatalf("starting a supervisor: %q (%v), want %q", msg, err, want)
		}
	}
	if got := supervisors(dir); len(got) != 1 {
		t.Errorf("supervisors = %v, want one", got)
	}
	// Left alone, it exits.
	for deadline := time.Now().Add(idleGrace + 5*time.Second); countSupervisors(dir) > 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if got := supervisors(dir); len(got) != 0 {
		t.Errorf("an idle supervisor did not exit: %v", got)
	}
}

func TestTheSupervisorExitsWhenIdle(t *testing.T) {
	dir := t.TempDir()
	r, err := New(testOptions(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	sb, sbConfig := testPod(t, r, "idle")
	long := startContainer(t, r, sb, sbConfig, shConfig("long", "sleep 100"))
	brief := startContainer(t, r, sb, sbConfig, shConfig("brief", "sleep 0.2"))
	sup := supervisorOf(t, r, long)
	waitExited(t, r, brief, 5*time.Second)

	// A running container keeps it without a runtime.
	r.Close()
	time.Sleep(idleGrace + 300*time.Millisecond)
	if got := supervisors(dir); len(got) != 1 || got[0] != sup {
		t.Fatalf("with a container running and no runtime, supervisors = %v, want [%d]", got, sup)
	}

	// So does a runtime's session, once the container is gone.
	r = openTestRuntime(t, dir)
	if err := r.RemoveContainer(t.Context(), long); err != nil {
		t.Fatal(err)
	}
	time.Sleep(idleGrace + 300*time.Millisecond)
	if got := supervisors(dir); len(got) != 1 || got[0] != sup {
		t.Fatalf("with a runtime open, supervisors = %v, want [%d]", got, sup)
	}

	// Closing the last runtime ends it at once.
	r.Close()
	if got := supervisors(dir); len(got) != 0 {
		t.Errorf("after the last runtime closed, with no container, supervisors = %v, want none", got)
	}
	if _, err := os.Lstat(filepath.Join(dir, supervisorSocket)); err == nil {
		t.Error("the supervisor left its socket behind")
	}

	// A new runtime starts a new supervisor for its containers.
	r = openTestRuntime(t, dir)
	sb, sbConfig = testPod(t, r, "again")
	id := startContainer(t, r, sb, sbConfig, shConfig("again", "echo hi"))
	if st := waitExited(t, r, id, 5*time.Second); st.ExitCode != 0 {
		t.Errorf("a container under a second supervisor: exit %d %q", st.ExitCode, st.Message)
	}
	if s := supervisorOf(t, r, id); s == sup {
		t.Errorf("the new container names the old supervisor %d", s)
	}
}

func TestOrphansAreReaped(t *testing.T) {
	r := newTestRuntime(t)
	sb, sbConfig := testPod(t, r, "orphans")
	pidFile := filepath.Join(t.TempDir(), "orphan")
	// The orphan leaves the container's process group and session; the
	// container's shell exits at once and leaves it to the supervisor.
	script := `setsid sh -c 'echo $$ > ` + pidFile + `; exec sleep 0.3' & sleep 0.1`
	id := startContainer(t, r, sb, sbConfig, shConfig("parent", script))
	waitExited(t, r, id, 5*time.Second)
	var orphan int
	for deadline := time.Now().Add(5 * time.Second); orphan == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		data, _ := os.ReadFile(pidFile)
		orphan, _ = strconv.Atoi(strings.TrimSpace(string(data)))
	}
	if orphan == 0 {
		t.Fatal("the container did not start its orphan")
	}
	// Killed with the container's cgroups (as root) or ending by itself,
	// the orphan must not stay a zombie.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, zombie, err := procStart(orphan)
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("orphan %d still exists (zombie %v) 5s after its container ended", orphan, zombie)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTheSupervisorRefusesWhatItCannotDo(t *testing.T) {
	r := newTestRuntime(t)
	sb, sbConfig := testPod(t, r, "twice")
	id := startContainer(t, r, sb, sbConfig, shConfig("once", "sleep 100"))
	// Ask the supervisor directly, past the runtime's own check.
	ans, conn, err := r.sup.call(t.Context(), request{Op: opStart, Container: id}, false)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if !strings.Contains(ans.Error, "already running") {
		t.Errorf("a second start of a running container: %q, want a refusal", ans.Error)
	}
	if s := containerStateOf(t, r, id); s != runtimeapi.ContainerState_CONTAINER_RUNNING {
		t.Errorf("after the refused start the container is %s", s)
	}
	for _, tc := range []struct {
		req   request
		found bool
		error string
	}{
		{request{Op: opSignal, Container: strings.Repeat("0", 64), Signal: 0}, false, ""},
		{request{Op: opSignal, Container: id, Signal: 0}, true, ""},
		{request{Op: opStart, Container: "../../etc"}, false, "is not a container id"},
		{request{Op: "bogus"}, false, "unknown operation"},
	} {
		ans, conn, err := r.sup.call(t.Context(), tc.req, false)
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
		if ans.Found != tc.found || !strings.Contains(ans.Error, tc.error) || (tc.error == "") != (ans.Error == "") {
			t.Errorf("%+v: answer %+v, want found %v and an error saying %q", tc.req, ans, tc.found, tc.error)
		}
	}
}
