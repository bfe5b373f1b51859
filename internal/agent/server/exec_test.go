package server

import (
	"bytes"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/util/exec"
)

// executors are the two ways client-go runs a remote command: kubectl
// 1.30+ tries the first and falls back to the second.
var executors = []struct {
	name string
	new  func(cfg *rest.Config, u *url.URL) (remotecommand.Executor, error)
}{
	{"websocket v5", func(cfg *rest.Config, u *url.URL) (remotecommand.Executor, error) {
		return remotecommand.NewWebSocketExecutor(cfg, "GET", u.String())
	}},
	{"spdy", func(cfg *rest.Config, u *url.URL) (remotecommand.Executor, error) {
		return remotecommand.NewSPDYExecutor(cfg, "POST", u)
	}},
}

// commandQuery is the kubelet's query for cmd with the named streams
// (stdin, stdout, stderr, tty), which it calls input, output, error, tty.
func commandQuery(cmd []string, streams ...string) url.Values {
	q := url.Values{"command": cmd}
	param := map[string]string{"stdin": corev1.ExecStdinParam, "stdout": corev1.ExecStdoutParam,
		"stderr": corev1.ExecStderrParam, "tty": corev1.ExecTTYParam}
	for _, s := range streams {
		q.Set(param[s], "1")
	}
	return q
}

func TestExec(t *testing.T) {
	a := startAgent(t, nil)
	cfg := &rest.Config{Host: a.url.String()}
	tests := []struct {
		name           string
		cmd            []string
		stdin          string
		wantOut        string
		wantErr        string
		wantExit       int
		withoutStderr  bool
		withoutStdout  bool
		tty            bool
		sendResize     bool
		waitForResizes bool
	}{
		{name: "streams and exit code", cmd: []string{"sh", "-c", "echo out; echo err >&2; exit 3"},
			wantOut: "out\n", wantErr: "err\n", wantExit: 3},
		{name: "success", cmd: []string{"sh", "-c", "echo fine"}, wantOut: "fine\n"},
		{name: "stdin closed at its end", cmd: []string{"cat"}, stdin: "hello\nworld\n", wantOut: "hello\nworld\n"},
		{name: "stdout only", cmd: []string{"sh", "-c", "echo out; echo err >&2"}, withoutStderr: true, wantOut: "out\n"},
		{name: "stderr only", cmd: []string{"sh", "-c", "echo out; echo err >&2; exit 1"}, withoutStdout: true,
			wantErr: "err\n", wantExit: 1},
		{name: "tty and resize", cmd: []string{"cat"}, stdin: "typed\n", tty: true, sendResize: true, wantOut: "typed\n"},
	}
	for _, ex := range executors {
		for _, tc := range tests {
			t.Run(ex.name+"/"+tc.name, func(t *testing.T) {
				streams := []string{}
				if !tc.withoutStdout {
					streams = append(streams, "stdout")
				}
				if !tc.withoutStderr && !tc.tty {
					streams = append(streams, "stderr")
				}
				if tc.stdin != "" {
					streams = append(streams, "stdin")
				}
				if tc.tty {
					streams = append(streams, "tty")
				}
				e, err := ex.new(cfg, a.at("/exec/default/web/app", commandQuery(tc.cmd, streams...)))
				if err != nil {
					t.Fatal(err)
				}
				var stdout, stderr bytes.Buffer
				opts := remotecommand.StreamOptions{Tty: tc.tty}
				if !tc.withoutStdout {
					opts.Stdout = &stdout
				}
				if !tc.withoutStderr && !tc.tty {
					opts.Stderr = &stderr
				}
				var stdin *io.PipeWriter
				if tc.stdin != "" {
					var r *io.PipeReader
					r, stdin = io.Pipe()
					opts.Stdin = r
				}
				sizes := &fixedSizes{}
				if tc.sendResize {
					sizes.sizes = []remotecommand.TerminalSize{{Width: 80, Height: 24}}
					opts.TerminalSizeQueue = sizes
				}
				done := make(chan error, 1)
				go func() { done <- e.StreamWithContext(t.Context(), opts) }()
				if tc.sendResize {
					select {
					case got := <-a.runtime.Resizes:
						if got != (remotecommand.TerminalSize{Width: 80, Height: 24}) {
							t.Errorf("resize = %+v", got)
						}
					case <-time.After(10 * time.Second):
						t.Fatal("no resize reached the runtime")
					}
				}
				if stdin != nil {
					// Close stdin only after the data: cat must see its end.
					go func() { _, _ = io.WriteString(stdin, tc.stdin); stdin.Close() }()
				}
				var err2 error
				select {
				case err2 = <-done:
				case <-time.After(20 * time.Second):
					t.Fatal("the command did not end")
				}
				checkExit(t, err2, tc.wantExit)
				if stdout.String() != tc.wantOut || stderr.String() != tc.wantErr {
					t.Fatalf("stdout %q stderr %q, want %q and %q", stdout.String(), stderr.String(), tc.wantOut, tc.wantErr)
				}
			})
		}
	}
}

// checkExit checks that err reports exit code want (0: success).
func checkExit(t *testing.T, err error, want int) {
	t.Helper()
	if want == 0 {
		if err != nil {
			t.Fatalf("err = %v", err)
		}
		return
	}
	var exit exec.CodeExitError
	if !errors.As(err, &exit) || exit.Code != want {
		t.Fatalf("err = %#v, want exit code %d", err, want)
	}
}

// fixedSizes hands out a list of terminal sizes, then blocks until the
// stream ends.
type fixedSizes struct {
	sizes []remotecommand.TerminalSize
	block chan struct{}
}

func (f *fixedSizes) Next() *remotecommand.TerminalSize {
	if len(f.sizes) == 0 {
		if f.block == nil {
			f.block = make(chan struct{})
		}
		<-f.block
		return nil
	}
	s := f.sizes[0]
	f.sizes = f.sizes[1:]
	return &s
}

func TestAttach(t *testing.T) {
	a := startAgent(t, nil)
	cfg := &rest.Config{Host: a.url.String()}
	for _, ex := range executors {
		t.Run(ex.name, func(t *testing.T) {
			e, err := ex.new(cfg, a.at("/attach/default/web/app", commandQuery(nil, "stdin", "stdout", "stderr")))
			if err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			err = e.StreamWithContext(t.Context(), remotecommand.StreamOptions{
				Stdin: strings.NewReader("abc\n"), Stdout: &stdout, Stderr: &stderr})
			if err != nil {
				t.Fatal(err)
			}
			if stdout.String() != "abc\n" || stderr.String() != "attached\n" {
				t.Fatalf("stdout %q stderr %q", stdout.String(), stderr.String())
			}
		})
	}
}

func TestExecErrors(t *testing.T) {
	a := startAgent(t, nil)
	cfg := &rest.Config{Host: a.url.String()}
	tests := []struct {
		name, path string
		q          url.Values
		want       string
	}{
		{name: "no pod", path: "/exec/default/nope/app", q: commandQuery([]string{"true"}, "stdout"),
			want: `pods "nope" not found`},
		{name: "waiting container", path: "/exec/default/web/init", q: commandQuery([]string{"true"}, "stdout"),
			want: `container "init" in pod "web" is waiting to start: PodInitializing`},
		{name: "no streams", path: "/exec/default/web/app", q: commandQuery([]string{"true"}),
			want: "you must specify at least 1 of stdin, stdout, stderr"},
		{name: "no command", path: "/exec/default/web/app", q: commandQuery(nil, "stdout"),
			want: "you must specify at least one command"},
	}
	for _, ex := range executors {
		for _, tc := range tests {
			t.Run(ex.name+"/"+tc.name, func(t *testing.T) {
				e, err := ex.new(cfg, a.at(tc.path, tc.q))
				if err != nil {
					t.Fatal(err)
				}
				err = e.StreamWithContext(t.Context(), remotecommand.StreamOptions{Stdout: io.Discard})
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.want)
				}
			})
		}
	}
}
