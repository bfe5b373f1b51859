package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func get(t *testing.T, h http.Handler, target string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec.Code, rec.Body.String()
}

func TestHandlers(t *testing.T) {
	t.Setenv("TESTWEB_MARKER", "hello")
	exits := make(chan int, 1)
	h := newHandler(exits)

	if code, body := get(t, h, "/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz = %d %q, want 200 ok", code, body)
	}
	host, _ := os.Hostname()
	if code, body := get(t, h, "/hostname"); code != 200 || body != host+"\n" {
		t.Errorf("/hostname = %d %q, want %q", code, body, host)
	}
	if code, body := get(t, h, "/echo?msg=hi+there"); code != 200 || body != "hi there\n" {
		t.Errorf("/echo = %d %q", code, body)
	}
	code, body := get(t, h, "/env")
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	if code != 200 || !slices.Contains(lines, "TESTWEB_MARKER=hello") || !slices.IsSorted(lines) {
		t.Errorf("/env = %d, want sorted lines with TESTWEB_MARKER=hello, got %q", code, lines)
	}
	if code, body := get(t, h, "/ip"); code != 200 {
		t.Errorf("/ip = %d %q", code, body)
	} else {
		for _, l := range strings.Fields(body) {
			if ip := net.ParseIP(l); ip == nil || ip.IsLoopback() {
				t.Errorf("/ip line %q is not a non-loopback IP", l)
			}
		}
	}
	if code, _ := get(t, h, "/nope"); code != 404 {
		t.Errorf("/nope = %d, want 404", code)
	}
	if code, _ := get(t, h, "/exit/x"); code != 400 {
		t.Errorf("/exit/x = %d, want 400", code)
	}
	select {
	case c := <-exits:
		t.Fatalf("bad /exit asked to exit with %d", c)
	default:
	}
	if code, body := get(t, h, "/exit/7"); code != 200 || body != "exiting with 7\n" {
		t.Errorf("/exit/7 = %d %q", code, body)
	}
	select {
	case c := <-exits:
		if c != 7 {
			t.Errorf("exit code %d, want 7", c)
		}
	default:
		t.Error("/exit/7 did not ask to exit")
	}
}

// startServer builds and runs the program on a free port; it returns the
// process, the base URL and a reader of its stdout.
func startServer(t *testing.T) (*exec.Cmd, string, *bufio.Scanner) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "testweb")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", port))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cmd, base, bufio.NewScanner(stdout)
}

func exitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(10 * time.Second):
		t.Fatal("server did not exit")
	}
	return -1
}

func TestProgramExitAndLog(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program; skipped in -short")
	}
	cmd, base, out := startServer(t)
	resp, err := http.Get(base + "/exit/3")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "exiting with 3\n" {
		t.Errorf("/exit/3 answered %q", body)
	}
	var lines []string
	for out.Scan() {
		lines = append(lines, out.Text())
	}
	if c := exitCode(t, cmd); c != 3 {
		t.Errorf("exit code %d, want 3", c)
	}
	logged := strings.Join(lines, "\n")
	if !strings.Contains(logged, "GET /healthz 200") || !strings.Contains(logged, "GET /exit/3 200") {
		t.Errorf("request log lacks the requests:\n%s", logged)
	}
}

func TestProgramSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program; skipped in -short")
	}
	cmd, _, _ := startServer(t)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if c := exitCode(t, cmd); c != 0 {
		t.Errorf("exit code after SIGTERM %d, want 0", c)
	}
}
