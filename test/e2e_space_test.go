package test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// space is one test's namespace on the shared cluster, and a directory its
// pods can use: process-runtime containers see the host's files.
type space struct {
	t   *testing.T
	k   *kubectl
	ns  string
	dir string
}

// space creates the namespace e2e-<name>; when the test ends it describes
// the pods if the test failed, then deletes the workloads and pods.
func (c *cluster) space(t *testing.T, name string) *space {
	t.Helper()
	s := &space{t: t, k: &kubectl{t: t, kubeconfig: c.kubeconfig}, ns: "e2e-" + name, dir: t.TempDir()}
	s.k.run("create", "namespace", s.ns)
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := s.try("describe", "pods")
			t.Logf("kubectl -n %s describe pods:\n%s", s.ns, out)
		}
		if out, err := s.try("delete", workloads, "--all", "--cascade=foreground", "--timeout=55s"); err != nil {
			t.Errorf("deleting the workloads of %s: %v\n%s", s.ns, err, out)
		}
		if out, err := s.try("delete", "pods", "--all", "--timeout=55s"); err != nil {
			t.Errorf("deleting the pods of %s: %v\n%s", s.ns, err, out)
		}
	})
	return s
}

func (s *space) args(args []string) []string { return append([]string{"-n", s.ns}, args...) }

// run runs kubectl in the namespace and fails the test if it fails.
func (s *space) run(args ...string) string {
	s.t.Helper()
	return s.k.run(s.args(args)...)
}

// fail runs kubectl in the namespace and fails the test if it succeeds.
func (s *space) fail(args ...string) string {
	s.t.Helper()
	return s.k.fail(s.args(args)...)
}

func (s *space) try(args ...string) (string, error) { return s.k.try(s.args(args)...) }

// code runs kubectl in the namespace and returns its output and exit code.
func (s *space) code(stdin string, args ...string) (string, int) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := s.k.cmd(ctx, s.args(args)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return stripSkew(string(out)), 0
	case errors.As(err, &exit):
		return stripSkew(string(out)), exit.ExitCode()
	}
	s.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	return "", 0
}

// create writes a manifest into the test's directory and creates it; $DIR
// in the manifest stands for that directory.
func (s *space) create(name, manifest string) {
	s.t.Helper()
	path := filepath.Join(s.dir, name+".yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(manifest, "$DIR", s.dir)), 0o644); err != nil {
		s.t.Fatal(err)
	}
	s.run("create", "-f", path)
}

// get returns a jsonpath of an object.
func (s *space) get(object, jsonpath string) string {
	s.t.Helper()
	return s.run("get", object, "-o", "jsonpath="+jsonpath)
}

// wait runs `kubectl wait` for one condition, e.g. condition=Ready or
// jsonpath={.status.phase}=Succeeded.
func (s *space) wait(object, condition string) {
	s.t.Helper()
	s.run("wait", object, "--for="+condition, "--timeout=50s")
}

// eventually runs kubectl every second until its output contains every
// one of wants, and returns that output. The timeout is generous: the
// machines are shared.
func (s *space) eventually(wants []string, args ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		out, _ := s.try(args...)
		missing := ""
		for _, w := range wants {
			if !strings.Contains(out, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return out
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("kubectl %s: no %q within 90s; last output:\n%s", strings.Join(args, " "), missing, out)
		}
		time.Sleep(time.Second)
	}
}

// watch starts `kubectl get -w` with args and returns its output lines. It
// returns once kubectl is watching, so that nothing that happens after it
// is missed. kubectl stops with the test.
func (s *space) watch(args ...string) <-chan string {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	// -v=6 logs each request and its answer on stderr.
	cmd := s.k.cmd(ctx, s.args(append([]string{"get", "-w", "-v=6"}, args...))...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	// kubectl watches once the server has answered its watch request.
	watching := make(chan struct{})
	go func() {
		seen := false
		errs := bufio.NewScanner(stderr)
		for errs.Scan() {
			if !seen && strings.Contains(errs.Text(), "watch=true") && strings.Contains(errs.Text(), "200 OK") {
				seen = true
				close(watching)
			}
		}
	}()
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		out := bufio.NewScanner(stdout)
		for out.Scan() {
			lines <- out.Text()
		}
	}()
	select {
	case <-watching:
	case <-time.After(30 * time.Second):
		s.t.Fatalf("kubectl get -w %s: no watch within 30s", strings.Join(args, " "))
	}
	return lines
}

// next returns the next line of a watch, failing the test if none comes
// before the deadline.
func (s *space) next(lines <-chan string, deadline time.Time, what string) string {
	s.t.Helper()
	select {
	case line, ok := <-lines:
		if !ok {
			s.t.Fatalf("kubectl get -w ended while waiting for %s", what)
		}
		return line
	case <-time.After(time.Until(deadline)):
		s.t.Fatalf("timed out waiting for %s", what)
	}
	return ""
}
