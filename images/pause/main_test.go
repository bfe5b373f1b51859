package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// build compiles the program the way scripts/build-pause.sh does (static).
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pause")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -buildid=", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// start runs argv and waits until pause has said (on stderr, after
// installing its signal handlers) that it is not PID 1.
func start(t *testing.T, argv ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	line := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(stderr)
		s.Scan()
		line <- s.Text()
		for s.Scan() {
		}
	}()
	select {
	case l := <-line:
		if !strings.Contains(l, "not running as PID 1") {
			t.Fatalf("first stderr line %q", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("pause did not start")
	}
	return cmd
}

func wait(t *testing.T, cmd *exec.Cmd, within time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(within):
		t.Fatalf("pause did not exit within %s", within)
		return nil
	}
}

func TestExitsZeroOnSignals(t *testing.T) {
	bin := build(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		cmd := start(t, bin)
		// A SIGCHLD with no child to reap must not stop it.
		if err := cmd.Process.Signal(syscall.SIGCHLD); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatalf("%s: %v (did SIGCHLD end it?)", sig, err)
		}
		if err := wait(t, cmd, time.Second); err != nil {
			t.Errorf("after %s: %v, want exit status 0", sig, err)
		}
	}
}

func TestVersionFlag(t *testing.T) {
	out, err := exec.Command(build(t), "-v").Output()
	if err != nil || !strings.HasPrefix(string(out), "pause.go version "+version) {
		t.Errorf("-v: %q, %v", out, err)
	}
}

// TestReapsChildren makes a child of pause's process by letting a shell fork
// `sleep` and then exec pause in its place; once sleep exits, pause must
// reap it, leaving no zombie with pause as parent.
func TestReapsChildren(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("needs /bin/sh to fork a child before exec'ing pause")
	}
	bin := build(t)
	cmd := start(t, "/bin/sh", "-c", "sleep 1 & exec "+bin)
	pid := cmd.Process.Pid
	if kids := children(t, pid); len(kids) != 1 {
		t.Fatalf("pause has children %v, want the one sleep", kids)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		kids := children(t, pid)
		if len(kids) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("children not reaped: %v", kids)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := wait(t, cmd, time.Second); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatal(err)
		}
		t.Errorf("exit after SIGTERM: %v", err)
	}
}

// children lists "pid:state" for each process whose parent is ppid.
func children(t *testing.T, ppid int) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	var kids []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at ')'.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) >= 2 && f[1] == strconv.Itoa(ppid) {
			kids = append(kids, e.Name()+":"+f[0])
		}
	}
	return kids
}
