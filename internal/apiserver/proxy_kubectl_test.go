package apiserver

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"skiff.dev/internal/agent/server/servertest"
	"skiff.dev/internal/kubeconfig"
)

// TestKubectlThroughTheAgent drives logs, exec, attach, port-forward and
// nodes/proxy with the real kubectl, which picks WebSocket or SPDY itself.
func TestKubectlThroughTheAgent(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not on PATH")
	}
	c := startCluster(t, nil)
	web := c.writeLog(t, "web", "stdout", "one", "stdout", "two")
	c.addPod(t, "web", "node1", nil, []string{"app"}, map[string]servertest.Container{"app": {ID: "web-1", LogPath: web}})
	c.addPod(t, "multi", "node1", nil, []string{"a", "b"}, map[string]servertest.Container{"a": {ID: "multi-a"}})
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := kubeconfig.Write(kc, c.api.URL, c.certs.CACert, c.certs.AdminCert, c.certs.AdminKey); err != nil {
		t.Fatal(err)
	}
	kubectl := func(stdin string, args ...string) (string, int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", kc, "-n", "default"}, args...)...)
		cmd.Env = append(os.Environ(), "KUBECTL_DISPATCHER_QUIET=1")
		cmd.Stdin = strings.NewReader(stdin)
		// Only a failure's stderr counts: under load kubectl has logged a
		// warning there ("Unknown stream id 1, discarding message") on a
		// run whose output was complete and right.
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return string(out) + stderr.String(), exit.ExitCode()
		}
		if err != nil {
			t.Fatalf("kubectl %v: %v", args, err)
		}
		return string(out), 0
	}
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string // the output, or a part of it when code != 0 or some
		code  int
		some  bool
	}{
		{name: "logs", args: []string{"logs", "web"}, want: "one\ntwo\n"},
		{name: "logs --tail", args: []string{"logs", "web", "--tail=1"}, want: "two\n"},
		{name: "logs of which container", args: []string{"get", "--raw", "/api/v1/namespaces/default/pods/multi/log"}, code: 1,
			want: "a container name must be specified for pod multi, choose one of: [a b]"},
		{name: "exec exit code", args: []string{"exec", "web", "--", "sh", "-c", "echo hi; exit 3"}, want: "hi\n", code: 3},
		{name: "exec stdin", stdin: "x\ny\n", args: []string{"exec", "-i", "web", "--", "wc", "-l"}, want: "2\n"},
		{name: "exec in a container", args: []string{"exec", "multi", "-c", "a", "--", "echo", "in a"}, want: "in a\n"},
		{name: "exec in no container", args: []string{"exec", "multi", "-c", "c", "--", "true"}, code: 1,
			want: "container c is not valid for pod multi"},
		{name: "attach", stdin: "echoed\n", args: []string{"attach", "-i", "web"}, want: "echoed\n", some: true},
		{name: "nodes/proxy", args: []string{"get", "--raw", "/api/v1/nodes/node1/proxy/healthz"}, want: "ok"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, code := kubectl(tc.stdin, tc.args...)
			if code != tc.code || (tc.code == 0 && !tc.some && out != tc.want) || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %d, output:\n%s\nwant exit %d and %q", code, out, tc.code, tc.want)
			}
		})
	}
	t.Run("port-forward", func(t *testing.T) { kubectlPortForward(t, kc) })
}

// kubectlPortForward forwards a local port to the pod with kubectl and
// talks through it.
func kubectlPortForward(t *testing.T, kc string) {
	port := servertest.UpperServer(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cmd := exec.CommandContext(ctx, "kubectl", "--kubeconfig", kc, "-n", "default", "port-forward", "pod/web", ":"+strconv.Itoa(port))
	cmd.Env = append(os.Environ(), "KUBECTL_DISPATCHER_QUIET=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	// "Forwarding from 127.0.0.1:41234 -> 8080"
	lines := bufio.NewReader(out)
	re := regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) ->`)
	var local int
	for local == 0 {
		line, err := lines.ReadString('\n')
		if err != nil {
			t.Fatalf("kubectl port-forward: %v", err)
		}
		if m := re.FindStringSubmatch(line); m != nil {
			local, _ = strconv.Atoi(m[1]) // digits, by the pattern
		}
	}
	go func() { _, _ = io.Copy(io.Discard, lines) }()
	for _, word := range []string{"one", "two"} {
		servertest.ExpectUpper(t, local, word)
	}
}
