package process

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// stream runs a remotecommand (exec or attach) against a URL the runtime
// returned, as kubectl would through the agent.
func stream(t *testing.T, rawURL string, opts remotecommand.StreamOptions) error {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	exec, err := remotecommand.NewSPDYExecutor(&rest.Config{Host: u.Host}, "POST", u)
	if err != nil {
		t.Fatal(err)
	}
	return exec.StreamWithContext(t.Context(), opts)
}

func TestExecThroughTheStreamingServer(t *testing.T) {
	r := newTestRuntime(t)
	sb, sbConfig := testPod(t, r, "stream")
	config := shConfig("target", "")
	config.Command = []string{"sleep", "100"}
	config.Envs = []*runtimeapi.KeyValue{{Key: "WHO", Value: "exec"}}
	id := startContainer(t, r, sb, sbConfig, config)

	resp, err := r.Exec(t.Context(), &runtimeapi.ExecRequest{ContainerId: id, Cmd: []string{"sh", "-c", `read line; echo "$WHO got $line"; echo oops >&2; exit 3`}, Stdin: true, Stdout: true, Stderr: true})
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	if !strings.HasPrefix(resp.Url, r.StreamURL()) {
		t.Errorf("exec URL %s is not below the stream URL %s", resp.Url, r.StreamURL())
	}
	var stdout, stderr bytes.Buffer
	err = stream(t, resp.Url, remotecommand.StreamOptions{Stdin: strings.NewReader("hello\n"), Stdout: &stdout, Stderr: &stderr})
	var exitErr utilexec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitStatus() != 3 {
		t.Errorf("exec exiting 3: err = %v, want an exit error with code 3", err)
	}
	if stdout.String() != "exec got hello\n" || stderr.String() != "oops\n" {
		t.Errorf("exec output = %q / %q", stdout.String(), stderr.String())
	}

	// With a terminal.
	resp, err = r.Exec(t.Context(), &runtimeapi.ExecRequest{ContainerId: id, Cmd: []string{"sh", "-c", "tty; sleep 0.3; stty size"}, Stdout: true, Tty: true})
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	stdout.Reset()
	sizes := sizeQueue{remotecommand.TerminalSize{Width: 100, Height: 40}}
	if err := stream(t, resp.Url, remotecommand.StreamOptions{Stdout: &stdout, Tty: true, TerminalSizeQueue: &sizes}); err != nil {
		t.Fatalf("exec with a tty: %v", err)
	}
	if out := stdout.String(); !strings.Contains(out, "/dev/pts/") || !strings.Contains(out, "40 100") {
		t.Errorf("exec with a tty printed %q, want a /dev/pts terminal of 40 rows and 100 columns", out)
	}
}

// sizeQueue hands out terminal sizes, then waits (as a real terminal does).
type sizeQueue []remotecommand.TerminalSize

func (q *sizeQueue) Next() *remotecommand.TerminalSize {
	if len(*q) == 0 {
		time.Sleep(time.Hour)
		return nil
	}
	s := (*q)[0]
	*q = (*q)[1:]
	return &s
}

func TestAttachToStdin(t *testing.T) {
	r := newTestRuntime(t)
	sb, sbConfig := testPod(t, r, "attach")
	config := shConfig("cat", "")
	config.Command = []string{"sh", "-c", "echo ready; cat; echo bye"}
	config.Stdin, config.StdinOnce = true, true
	id := startContainer(t, r, sb, sbConfig, config)

	resp, err := r.Attach(t.Context(), &runtimeapi.AttachRequest{ContainerId: id, Stdin: true, Stdout: true, Stderr: true})
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	var stdout, stderr bytes.Buffer
	if err := stream(t, resp.Url, remotecommand.StreamOptions{Stdin: strings.NewReader("hello\n"), Stdout: &stdout, Stderr: &stderr}); err != nil {
		t.Fatalf("attach: %v", err)
	}
	// "ready" may come before the attach; what stdin fed must come after.
	if out := stdout.String(); !strings.HasSuffix(out, "hello\nbye\n") {
		t.Errorf("attached output = %q, want it to end with hello and bye", out)
	}
	// With stdinOnce, the end of the attached stdin ends the container's.
	st := waitExited(t, r, id, 5*time.Second)
	var lines []string
	for _, e := range readLog(t, st.LogPath) {
		lines = append(lines, e.text)
	}
	if strings.Join(lines, ",") != "ready,hello,bye" {
		t.Errorf("log = %q", lines)
	}
	if _, err := r.Attach(t.Context(), &runtimeapi.AttachRequest{ContainerId: id, Stdout: true}); err == nil {
		t.Error("attaching to an exited container succeeded")
	}
}

func TestPortForwardDialsTheHostPort(t *testing.T) {
	r := newTestRuntime(t)
	sb, _ := testPod(t, r, "pf")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		line, _ := io.ReadAll(io.LimitReader(conn, 4))
		conn.Write(append([]byte("pong:"), line...))
	}()
	if _, err := r.PortForward(t.Context(), &runtimeapi.PortForwardRequest{PodSandboxId: sb, Port: []int32{80}}); err != nil {
		t.Fatalf("PortForward: %v", err)
	}
	client, server := net.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- streamRuntime{r}.PortForward(t.Context(), sb, int32(l.Addr().(*net.TCPAddr).Port), server)
	}()
	client.Write([]byte("ping"))
	got, _ := io.ReadAll(client)
	if string(got) != "pong:ping" {
		t.Errorf("forwarded answer = %q, want pong:ping", got)
	}
	if err := <-done; err != nil {
		t.Errorf("PortForward: %v", err)
	}
}

func TestTTYContainer(t *testing.T) {
	r := newTestRuntime(t)
	sb, sbConfig := testPod(t, r, "tty")
	config := shConfig("shell", `tty; read name; echo "hi $name"`)
	config.Stdin, config.Tty = true, true
	id := startContainer(t, r, sb, sbConfig, config)

	resp, err := r.Attach(t.Context(), &runtimeapi.AttachRequest{ContainerId: id, Stdin: true, Stdout: true, Tty: true})
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	var stdout bytes.Buffer
	if err := stream(t, resp.Url, remotecommand.StreamOptions{Stdin: strings.NewReader("bob\n"), Stdout: &stdout, Tty: true}); err != nil {
		t.Fatalf("attach: %v", err)
	}
	if !strings.Contains(stdout.String(), "hi bob") {
		t.Errorf("attached terminal output = %q, want hi bob", stdout.String())
	}
	st := waitExited(t, r, id, 5*time.Second)
	var lines []string
	for _, e := range readLog(t, st.LogPath) {
		if e.stream != "stdout" {
			t.Errorf("a tty container logged to %s", e.stream)
		}
		lines = append(lines, e.text)
	}
	// The terminal echoes the input as it arrives, which may be before or
	// after the command prints its terminal's name.
	if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "/dev/pts/") }) || lines[len(lines)-1] != "hi bob" {
		t.Errorf("tty container's log = %q, want its terminal's name and the greeting", lines)
	}
}
