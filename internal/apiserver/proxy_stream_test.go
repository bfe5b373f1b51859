package apiserver

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	clientscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/util/exec"

	"skiff.dev/internal/agent/server/servertest"
)

// executor runs commands the way kubectl 1.30+ does: WebSocket v5 first,
// SPDY when the WebSocket upgrade fails; or one of the two alone.
func executor(t *testing.T, cfg *rest.Config, kind, sub, pod string, opts *corev1.PodExecOptions) remotecommand.Executor {
	t.Helper()
	req := kubernetesClient(t, cfg).Post().Resource("pods").Namespace("default").Name(pod).SubResource(sub).
		VersionedParams(opts, clientscheme.ParameterCodec)
	ws, err := remotecommand.NewWebSocketExecutor(cfg, "GET", req.URL().String())
	if err != nil {
		t.Fatal(err)
	}
	sp, err := remotecommand.NewSPDYExecutor(cfg, "POST", req.URL())
	if err != nil {
		t.Fatal(err)
	}
	switch kind {
	case "websocket":
		return ws
	case "spdy":
		return sp
	}
	e, err := remotecommand.NewFallbackExecutor(ws, sp, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func kubernetesClient(t *testing.T, cfg *rest.Config) rest.Interface {
	t.Helper()
	c := *cfg
	c.GroupVersion = &corev1.SchemeGroupVersion
	c.APIPath = "/api"
	c.NegotiatedSerializer = clientscheme.Codecs.WithoutConversion()
	rc, err := rest.RESTClientFor(&c)
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

func TestPodExecAndAttach(t *testing.T) {
	c := startCluster(t, nil)
	c.addPod(t, "web", "node1", nil, []string{"app"}, map[string]servertest.Container{"app": {ID: "web-1"}})
	c.addPod(t, "pending", "", nil, []string{"app"}, nil)
	for _, kind := range []string{"websocket", "spdy", "fallback"} {
		t.Run(kind+"/exit code", func(t *testing.T) {
			e := executor(t, c.admin, kind, "exec", "web", &corev1.PodExecOptions{
				Command: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}, Stdout: true, Stderr: true})
			var stdout, stderr bytes.Buffer
			err := e.StreamWithContext(t.Context(), remotecommand.StreamOptions{Stdout: &stdout, Stderr: &stderr})
			var exit exec.CodeExitError
			if !errors.As(err, &exit) || exit.Code != 3 {
				t.Fatalf("err = %v, want exit code 3", err)
			}
			if stdout.String() != "out\n" || stderr.String() != "err\n" {
				t.Fatalf("stdout %q, stderr %q", stdout.String(), stderr.String())
			}
		})
		t.Run(kind+"/stdin", func(t *testing.T) {
			e := executor(t, c.admin, kind, "exec", "web", &corev1.PodExecOptions{
				Command: []string{"wc", "-l"}, Stdin: true, Stdout: true})
			var stdout bytes.Buffer
			err := e.StreamWithContext(t.Context(), remotecommand.StreamOptions{Stdin: strings.NewReader("a\nb\n"), Stdout: &stdout})
			if err != nil || strings.TrimSpace(stdout.String()) != "2" {
				t.Fatalf("got %q, %v", stdout.String(), err)
			}
		})
		t.Run(kind+"/attach", func(t *testing.T) {
			e := executor(t, c.admin, kind, "attach", "web", &corev1.PodExecOptions{Stdin: true, Stdout: true, Stderr: true})
			var stdout, stderr bytes.Buffer
			err := e.StreamWithContext(t.Context(), remotecommand.StreamOptions{Stdin: strings.NewReader("hi\n"), Stdout: &stdout, Stderr: &stderr})
			if err != nil || stdout.String() != "hi\n" || stderr.String() != "attached\n" {
				t.Fatalf("stdout %q, stderr %q, %v", stdout.String(), stderr.String(), err)
			}
		})
		t.Run(kind+"/not scheduled", func(t *testing.T) {
			e := executor(t, c.admin, kind, "exec", "pending", &corev1.PodExecOptions{Command: []string{"true"}, Stdout: true})
			err := e.StreamWithContext(t.Context(), remotecommand.StreamOptions{Stdout: io.Discard})
			if err == nil || !strings.Contains(err.Error(), "pod pending does not have a host assigned") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestPodExecAuthorization(t *testing.T) {
	c := startCluster(t, allowExcept("create pods/exec"))
	c.addPod(t, "web", "node1", nil, []string{"app"}, map[string]servertest.Container{"app": {ID: "web-1"}})
	viewer := c.asUser(t, "viewer")
	for _, kind := range []string{"websocket", "spdy"} {
		t.Run(kind, func(t *testing.T) {
			// A GET (WebSocket) needs create too: upstream's fix of
			// kubernetes#133515.
			e := executor(t, viewer, kind, "exec", "web", &corev1.PodExecOptions{Command: []string{"true"}, Stdout: true})
			err := e.StreamWithContext(t.Context(), remotecommand.StreamOptions{Stdout: io.Discard})
			want := `User "viewer" cannot create resource "pods/exec" in API group "" in the namespace "default"`
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestPodPortForward(t *testing.T) {
	c := startCluster(t, nil)
	c.addPod(t, "web", "node1", nil, []string{"app"}, map[string]servertest.Container{"app": {ID: "web-1"}})
	port := servertest.UpperServer(t)
	u := kubernetesClient(t, c.admin).Post().Resource("pods").Namespace("default").Name("web").SubResource("portforward").URL()
	for _, d := range servertest.Dialers(t, c.admin, u) {
		t.Run(d.Name, func(t *testing.T) {
			servertest.ExpectUpper(t, servertest.Forward(t, d, port), "hello")
		})
	}
}

func TestNodeProxy(t *testing.T) {
	c := startCluster(t, nil)
	rc := kubernetesClient(t, c.admin)
	b, err := rc.Get().AbsPath("/api/v1/nodes/node1/proxy/healthz").DoRaw(t.Context())
	if err != nil || string(b) != "ok" {
		t.Fatalf("got %q, %v", b, err)
	}
	// The node's own path of an unknown page is the agent's 404.
	if _, err := rc.Get().AbsPath("/api/v1/nodes/node1/proxy/nothing").DoRaw(t.Context()); err == nil {
		t.Fatal("want an error for an unknown page")
	}
	if err := rc.Get().AbsPath("/api/v1/nodes/node2/proxy/healthz").Do(t.Context()).Error(); err == nil ||
		err.Error() != `nodes "node2" not found` {
		t.Fatalf("err = %v", err)
	}
}
