package process

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	utilexec "k8s.io/utils/exec"
)

func TestContainerLogsInCRIFormat(t *testing.T) {
	r := newTestRuntime(t)
	sb, sbConfig := testPod(t, r, "logs")
	config := shConfig("talker", `echo one; echo two >&2; printf 'no newline'`)
	id := startContainer(t, r, sb, sbConfig, config)
	st := waitExited(t, r, id, 10*time.Second)
	if st.ExitCode != 0 || st.Reason != "Completed" {
		t.Errorf("exit = %d %q, want 0 Completed", st.ExitCode, st.Reason)
	}
	if st.LogPath != logPath(sbConfig, config) {
		t.Errorf("LogPath = %q, want %q", st.LogPath, logPath(sbConfig, config))
	}
	entries := readLog(t, st.LogPath)
	var got []string
	for _, e := range entries {
		got = append(got, e.stream+" "+e.tag+" "+e.text)
		if e.time.Before(time.Now().Add(-time.Minute)) || e.time.Location() != time.UTC {
			t.Errorf("entry time %v is not a recent UTC time", e.time)
		}
	}
	// stdout and stderr are separate pipes: their relative order is not
	// fixed, each stream's own order is.
	slices.Sort(got)
	want := []string{"stderr F two", "stdout F no newline", "stdout F one"}
	if !slices.Equal(got, want) {
		t.Errorf("log entries = %q, want %q", got, want)
	}
}

func TestLongLineIsLoggedInPartialEntries(t *testing.T) {
	r := newTestRuntime(t)
	sb, sbConfig := testPod(t, r, "long")
	// One line of 40000 bytes: two partial entries of 16 KiB and the end.
	id := startContainer(t, r, sb, sbConfig, shConfig("long", `head -c 40000 /dev/zero | tr '\0' x; echo`))
	st := waitExited(t, r, id, 10*time.Second)
	entries := readLog(t, st.LogPath)
	var tags string
	total := 0
	for _, e := range entries {
		tags += e.tag
		total += len(e.text)
	}
	if tags != "PPF" || total != 40000 {
		t.Errorf("tags %q carrying %d bytes, want PPF carrying 40000", tags, total)
	}
}

func TestExitCodes(t *testing.T) {
	r := newTestRuntime(t)
	sb, sbConfig := testPod(t, r, "exits")
	for _, tc := range []struct {
		script string
		code   int32
		reason string
	}{
		{"exit 0", 0, "Completed"},
		{"exit 3", 3, "Error"},
		{"kill -KILL $$", 137, "Error"},
	} {
		id := startContainer(t, r, sb, sbConfig, shConfig("exit", tc.script))
		st := waitExited(t, r, id, 10*time.Second)
		if st.ExitCode != tc.code || st.Reason != tc.reason {
			t.Errorf("%q: exit = %d %q, want %d %q", tc.script, st.ExitCode, st.Reason, tc.code, tc.reason)
		}
		if st.StartedAt == 0 || st.FinishedAt < st.StartedAt || st.CreatedAt > st.StartedAt {
			t.Errorf("%q: times created %d started %d finished %d are out of order", tc.script, st.CreatedAt, st.StartedAt, st.FinishedAt)
		}
	}
}

func TestStopSendsTermThenKill(t *testing.T) {
	r := newTestRuntime(t)
	sb, sbConfig := testPod(t, r, "stop")
	polite := startContainer(t, r, sb, sbConfig, shConfig("polite", `sleep 100`))
	stubborn := startContainer(t, r, sb, sbConfig, shConfig("stubborn", `trap "" TERM; while :; do sleep 0.1; done`))
	if s := containerStateOf(t, r, polite); s != runtimeapi.ContainerState_CONTAINER_RUNNING {
		t.Fatalf("state after start = %s, want running", s)
	}

	start := time.Now()
	if err := r.StopContainer(t.Context(), polite, 10); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	st := waitExited(t, r, polite, time.Second)
	if st.ExitCode != 128+15 {
		t.Errorf("a container stopped by SIGTERM exited with %d, want 143", st.ExitCode)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("stopping a container that obeys SIGTERM took %s", took)
	}

	start = time.Now()
	if err := r.StopContainer(t.Context(), stubborn, 1); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	st = waitExited(t, r, stubborn, time.Second)
	if st.ExitCode != 128+9 {
		t.Errorf("a container that ignores SIGTERM exited with %d, want 137 (SIGKILL)", st.ExitCode)
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("SIGKILL came after %s, before the 1s grace period", took)
	}
	// Stopping again is not an error.
	if err := r.StopContainer(t.Context(), stubborn, 1); err != nil {
		t.Errorf("second StopContainer: %v", err)
	}
}

func TestStopKillsTheWholeProcessGroup(t *testing.T) {
	r := newTestRuntime(t)
	sb, sbConfig := testPod(t, r, "group")
	// The child records its pid; the shell waits for it.
	pidFile := t.TempDir() + "/child"
	id := startContainer(t, r, sb, sbConfig, shConfig("parent", `sleep 100 & echo $! > `+pidFile+`; wait`))
	var child int
	for deadline := time.Now().Add(5 * time.Second); child == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		data, _ := os.ReadFile(pidFile)
		child = atoi(strings.TrimSpace(string(data)))
	}
	if child == 0 {
		t.Fatal("the container did not start its child")
	}
	if err := r.StopContainer(t.Context(), id, 5); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	waitExited(t, r, id, time.Second)
	if _, zombie, err := procStart(child); err == nil && !zombie {
		t.Errorf("the container's child %d survived StopContainer", child)
	}
}

func TestCreateContainerWithoutCommandFails(t *testing.T) {
	r := newTestRuntime(t)
	sb, sbConfig := testPod(t, r, "nocmd")
	config := shConfig("web", "")
	config.Command, config.Args = nil, nil
	_, err := r.CreateContainer(t.Context(), sb, config, sbConfig)
	if err == nil || !strings.Contains(err.Error(), `container "web" has no command`) {
		t.Fatalf("CreateContainer without a command: err = %v, want one saying it has no command", err)
	}
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("code = %s, want InvalidArgument", status.Code(err))
	}
}

func TestStartFailureIsRecorded(t *testing.T) {
	r := newTestRuntime(t)
	sb, sbConfig := testPod(t, r, "startfail")
	config := shConfig("missing", "")
	config.Command, config.Args = []string{"no-such-command-anywhere"}, nil
	id, err := r.CreateContainer(t.Context(), sb, config, sbConfig)
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	err = r.StartContainer(t.Context(), id)
	if err == nil || !strings.Contains(err.Error(), "no-such-command-anywhere") {
		t.Fatalf("StartContainer of a missing command: err = %v", err)
	}
	st := waitExited(t, r, id, time.Second)
	if st.Reason != "StartError" || st.ExitCode != 128 {
		t.Errorf("status after failed start = %d %q, want 128 StartError", st.ExitCode, st.Reason)
	}
	if err := r.StartContainer(t.Context(), id); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("starting an exited container: err = %v, want FailedPrecondition", err)
	}
}

func TestEnvAndWorkingDir(t *testing.T) {
	r := newTestRuntime(t)
	sb, sbConfig := testPod(t, r, "env")
	dir := t.TempDir()
	config := shConfig("env", `echo "$GREETING $PWD"; echo "path=$PATH"`)
	config.Envs = []*runtimeapi.KeyValue{{Key: "GREETING", Value: "hello"}}
	config.WorkingDir = dir
	id := startContainer(t, r, sb, sbConfig, config)
	st := waitExited(t, r, id, 10*time.Second)
	var lines []string
	for _, e := range readLog(t, st.LogPath) {
		lines = append(lines, e.text)
	}
	want := []string{"hello " + dir, "path=" + defaultPath}
	if !slices.Equal(lines, want) {
		t.Errorf("output = %q, want %q", lines, want)
	}

	config.WorkingDir = "/no/such/dir"
	if _, err := r.CreateContainer(t.Context(), sb, config, sbConfig); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("CreateContainer with a missing working directory: err = %v", err)
	}
}

func TestListAndStatus(t *testing.T) {
	r := newTestRuntime(t)
	sb, sbConfig := testPod(t, r, "list")
	other, otherConfig := testPod(t, r, "other")
	running := startContainer(t, r, sb, sbConfig, shConfig("running", "sleep 100"))
	config := shConfig("created", "true")
	config.Annotations = map[string]string{"note": "kept"}
	created, err := r.CreateContainer(t.Context(), sb, config, sbConfig)
	if err != nil {
		t.Fatal(err)
	}
	startContainer(t, r, other, otherConfig, shConfig("elsewhere", "sleep 100"))

	for _, tc := range []struct {
		name   string
		filter *runtimeapi.ContainerFilter
		want   []string
	}{
		{"by sandbox", &runtimeapi.ContainerFilter{PodSandboxId: sb}, []string{created, running}},
		{"by state", &runtimeapi.ContainerFilter{PodSandboxId: sb, State: &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_CREATED}}, []string{created}},
		{"by label", &runtimeapi.ContainerFilter{LabelSelector: map[string]string{"container": "running"}}, []string{running}},
		{"by id prefix", &runtimeapi.ContainerFilter{Id: running[:12]}, []string{running}},
	} {
		list, err := r.ListContainers(t.Context(), tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range list {
			got = append(got, c.Id)
		}
		slices.Sort(got)
		slices.Sort(tc.want)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}

	resp, err := r.ContainerStatus(t.Context(), created, false)
	if err != nil {
		t.Fatal(err)
	}
	if s := resp.Status; s.State != runtimeapi.ContainerState_CONTAINER_CREATED || s.Annotations["note"] != "kept" ||
		s.Metadata.Name != "created" || s.Image.Image != "busybox" || s.Labels["container"] != "created" {
		t.Errorf("status of a created container = %v", s)
	}

	sbs, err := r.PodSandboxStatus(t.Context(), sb, false)
	if err != nil {
		t.Fatal(err)
	}
	if s := sbs.Status; s.State != runtimeapi.PodSandboxState_SANDBOX_READY || s.Network.Ip != testHostIP || s.Metadata.Name != "list" {
		t.Errorf("sandbox status = %v", s)
	}
	if err := r.StopPodSandbox(t.Context(), sb); err != nil {
		t.Fatal(err)
	}
	sbs, _ = r.PodSandboxStatus(t.Context(), sb, false)
	if sbs.Status.State != runtimeapi.PodSandboxState_SANDBOX_NOTREADY {
		t.Errorf("sandbox state after stop = %s", sbs.Status.State)
	}
	if s := containerStateOf(t, r, running); s != runtimeapi.ContainerState_CONTAINER_EXITED {
		t.Errorf("container state after its sandbox stopped = %s", s)
	}
	ready, _ := r.ListPodSandbox(t.Context(), &runtimeapi.PodSandboxFilter{State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_READY}})
	if len(ready) != 1 || ready[0].Id != other {
		t.Errorf("ready sandboxes = %v, want only %s", ready, other)
	}
}

func TestMissingObjectsAreNotFound(t *testing.T) {
	r := newTestRuntime(t)
	ctx := t.Context()
	for name, err := range map[string]error{
		"ContainerStatus":  second(r.ContainerStatus(ctx, "nope", false)),
		"StartContainer":   r.StartContainer(ctx, "nope"),
		"StopContainer":    r.StopContainer(ctx, "nope", 1),
		"PodSandboxStatus": second(r.PodSandboxStatus(ctx, "nope", false)),
		"StopPodSandbox":   r.StopPodSandbox(ctx, "nope"),
		"CreateContainer":  second(r.CreateContainer(ctx, "nope", shConfig("x", "true"), nil)),
		"ExecSync":         third(r.ExecSync(ctx, "nope", []string{"true"}, 0)),
		"Exec":             second(r.Exec(ctx, &runtimeapi.ExecRequest{ContainerId: "nope", Cmd: []string{"true"}, Stdout: true})),
		"PortForward":      second(r.PortForward(ctx, &runtimeapi.PortForwardRequest{PodSandboxId: "nope"})),
	} {
		if status.Code(err) != codes.NotFound {
			t.Errorf("%s of a missing object: err = %v, want NotFound", name, err)
		}
	}
	if err := r.RemoveContainer(ctx, "nope"); err != nil {
		t.Errorf("RemoveContainer of a missing container: %v, want nil (idempotent)", err)
	}
	if err := r.RemovePodSandbox(ctx, "nope"); err != nil {
		t.Errorf("RemovePodSandbox of a missing sandbox: %v, want nil (idempotent)", err)
	}
}

func TestExecSync(t *testing.T) {
	r := newTestRuntime(t)
	sb, sbConfig := testPod(t, r, "exec")
	config := shConfig("target", "sleep 100")
	config.Envs = []*runtimeapi.KeyValue{{Key: "COLOR", Value: "blue"}}
	config.WorkingDir = t.TempDir()
	id := startContainer(t, r, sb, sbConfig, config)

	out, _, err := r.ExecSync(t.Context(), id, []string{"sh", "-c", `echo "$COLOR in $PWD"`}, 5*time.Second)
	if err != nil {
		t.Fatalf("ExecSync: %v", err)
	}
	if got, want := strings.TrimSpace(string(out)), "blue in "+config.WorkingDir; got != want {
		t.Errorf("ExecSync output = %q, want %q", got, want)
	}

	out, errOut, err := r.ExecSync(t.Context(), id, []string{"sh", "-c", "echo out; echo err >&2; exit 4"}, 5*time.Second)
	var exitErr utilexec.CodeExitError
	if !errors.As(err, &exitErr) || exitErr.ExitStatus() != 4 {
		t.Fatalf("ExecSync exiting 4: err = %v, want CodeExitError 4", err)
	}
	if string(out) != "out\n" || string(errOut) != "err\n" {
		t.Errorf("ExecSync output = %q / %q", out, errOut)
	}

	_, errOut, err = r.ExecSync(t.Context(), id, []string{"no-such-command-anywhere"}, 5*time.Second)
	if !errors.As(err, &exitErr) || exitErr.ExitStatus() != 127 || !strings.Contains(string(errOut), "not found") {
		t.Errorf("ExecSync of a missing command: err = %v, stderr %q; want exit 127 saying not found", err, errOut)
	}

	start := time.Now()
	_, _, err = r.ExecSync(t.Context(), id, []string{"sleep", "100"}, 300*time.Millisecond)
	if status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("ExecSync past its timeout: err = %v, want DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("ExecSync with a 300ms timeout took %s", took)
	}
}

func second[T any](_ T, err error) error        { return err }
func third[T, U any](_ T, _ U, err error) error { return err }

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}
