package server

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"skiff.dev/internal/agent/server/servertest"
)

// agent is a running agent API with its test runtime and pods.
type agent struct {
	url     *url.URL
	runtime *servertest.Runtime
	pods    *servertest.Pods
}

// startAgent serves the agent API over plain HTTP. It knows one pod,
// default/web, with containers app (running, restarted once, logs set by
// withLogs) and init (waiting).
func startAgent(t *testing.T, authorize func(*http.Request) error) *agent {
	t.Helper()
	rt := servertest.NewRuntime(t)
	rt.SetRunning("app-1", true)
	pods := &servertest.Pods{}
	pods.Add("default", "web", "sandbox-web", map[string]servertest.Container{
		"app":  {ID: "app-1", PreviousID: "app-0"},
		"init": {Waiting: "PodInitializing"},
	})
	h, err := New(Options{Runtime: rt, Pods: pods, Authorize: authorize})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return &agent{url: u, runtime: rt, pods: pods}
}

// at is the agent URL of path with query q.
func (a *agent) at(path string, q url.Values) *url.URL {
	u := *a.url
	u.Path, u.RawQuery = path, q.Encode()
	return &u
}
