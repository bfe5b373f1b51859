package test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// httpServerCommand is a static file server for a pod serving dir on
// 127.0.0.1:port, from busybox (Debian's busybox-static) or Python,
// whichever the host has, as the pod runs the host's programs.
func httpServerCommand(dir string, port int) ([]string, bool) {
	if bb, err := exec.LookPath("busybox"); err == nil {
		return []string{bb, "httpd", "-f", "-p", fmt.Sprintf("127.0.0.1:%d", port), "-h", dir}, true
	}
	for _, py := range []string{"/usr/bin/python3", "/usr/local/bin/python3"} {
		if _, err := os.Stat(py); err == nil {
			return []string{py, "-m", "http.server", fmt.Sprint(port), "--bind", "127.0.0.1", "--directory", dir}, true
		}
	}
	return nil, false
}

var forwardingLine = regexp.MustCompile(`^Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)`)

// e2ePortForward: kubectl port-forward reaches an HTTP server in a pod.
func e2ePortForward(t *testing.T, c *cluster) {
	s := c.space(t, "portforward")
	www := filepath.Join(s.dir, "www")
	if err := os.MkdirAll(www, 0o755); err != nil {
		t.Fatal(err)
	}
	want := "hello through port-forward\n"
	if err := os.WriteFile(filepath.Join(www, "hello.txt"), []byte(want), 0o644); err != nil {
		t.Fatal(err)
	}
	// Pods share the host's network: the server needs a free host port.
	port := freeTCPPort(t)
	server, ok := httpServerCommand(www, port)
	if !ok {
		t.Skip("no HTTP server for the pod: install busybox-static or python3")
	}
	quoted := make([]string, len(server))
	for i, arg := range server {
		quoted[i] = fmt.Sprintf("%q", arg)
	}
	s.create("web", `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: web
    image: busybox
    command: [`+strings.Join(quoted, ", ")+`]
    readinessProbe:
      httpGet: {host: 127.0.0.1, port: `+fmt.Sprint(port)+`, path: /hello.txt}
      periodSeconds: 1
`)
	s.wait("pod/web", "condition=Ready")

	localPort, stderr := s.portForward("pod/web", port)
	// Two requests, each on a new connection: a new stream of the same forward.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for i := 0; i < 2; i++ {
		resp, err := client.Get("http://127.0.0.1:" + localPort + "/hello.txt")
		if err != nil {
			t.Fatalf("GET through the forward: %v; kubectl port-forward said:\n%s", err, stderr)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || string(body) != want {
			t.Fatalf("GET through the forward: %d %q (%v), want 200 %q", resp.StatusCode, body, err, want)
		}
	}
}

// portForward runs `kubectl port-forward target :port` until the test ends
// and returns the local port it forwards from, and its stderr.
func (s *space) portForward(target string, port int) (string, *lockedBuffer) {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	forward := s.k.cmd(ctx, s.args([]string{"port-forward", target, fmt.Sprintf(":%d", port)})...)
	stdout, err := forward.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	stderr := &lockedBuffer{}
	forward.Stderr = stderr
	if err := forward.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { cancel(); _ = forward.Wait() })
	local := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			if m := forwardingLine.FindStringSubmatch(lines.Text()); m != nil && m[2] == fmt.Sprint(port) {
				local <- m[1]
			}
		}
	}()
	select {
	case p := <-local:
		return p, stderr
	case <-time.After(30 * time.Second):
		s.t.Fatalf("kubectl port-forward did not say `Forwarding from 127.0.0.1:… -> %d` within 30s; stderr:\n%s", port, stderr.String())
	}
	return "", stderr
}
