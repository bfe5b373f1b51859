// Package testenv starts a real skiff control plane inside a Go test: the
// embedded etcd in a temporary directory and the API server on a free
// loopback port. Other Go projects can use it the way they would use
// envtest, and get a real API with its real semantics:
//
//	func TestMine(t *testing.T) {
//		env := testenv.Start(t)
//		cs := kubernetes.NewForConfigOrDie(env.Config)
//		...
//	}
package testenv

import (
	"context"
	"net/url"
	"strconv"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"k8s.io/utils/clock"

	"skiff.dev/internal/controllers"
	"skiff.dev/internal/controllers/ctrl"
	"skiff.dev/internal/server"
)

// Env is a running control plane.
type Env struct {
	// Config reaches the API server as the cluster admin.
	Config *rest.Config
	// Kubeconfig is the admin kubeconfig's path, for kubectl.
	Kubeconfig string
	// DataDir is the control plane's data directory.
	DataDir string
	// Server is the running control plane.
	Server *server.Server
	// Port is the API server's port.
	Port int

	stop context.CancelFunc
}

// Options adjust the control plane; the zero value is the default.
type Options struct {
	// DataDir reuses a data directory, e.g. to restart on the same data.
	DataDir string
	// BookmarkInterval makes watch bookmarks come faster than a minute.
	BookmarkInterval time.Duration
	// EtcdServers uses an external etcd instead of the embedded one.
	EtcdServers []string
	// APIPort fixes the API port, e.g. to restart where clients expect the
	// server; 0 picks a free one.
	APIPort int
	// WithoutScheduler starts no scheduler, for tests that bring their own.
	WithoutScheduler bool
	// WithoutControllers starts no controller manager.
	WithoutControllers bool
	// Controllers picks control loops ("*", "name", "-name"); empty is all.
	Controllers []string
	// ControllerOptions tune the control loops (grace periods, workers).
	ControllerOptions ctrl.Options
	// Clock is the control loops' clock, e.g. a fake one; nil is real time.
	Clock clock.WithTicker
}

// Start starts a control plane that stops when the test ends.
func Start(t testing.TB, opts ...Options) *Env {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.DataDir == "" {
		o.DataDir = t.TempDir()
	}
	env, err := StartWith(context.Background(), o)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(env.Stop)
	return env
}

// StartWith starts a control plane outside of a test's lifetime; call Stop.
func StartWith(ctx context.Context, o Options) (*Env, error) {
	ctx, cancel := context.WithCancel(ctx)
	s, err := server.Start(ctx, server.Options{DataDir: o.DataDir, APIPort: o.APIPort, BindAddress: "127.0.0.1", EtcdServers: o.EtcdServers,
		BookmarkInterval: o.BookmarkInterval, WithoutScheduler: o.WithoutScheduler,
		Loops: controllers.All(), WithoutControllers: o.WithoutControllers, Controllers: o.Controllers, ControllerOptions: o.ControllerOptions, Clock: o.Clock})
	if err != nil {
		cancel()
		return nil, err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig())
	if err != nil {
		cancel()
		return nil, err
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	u, err := url.Parse(s.URL())
	if err != nil {
		cancel()
		return nil, err
	}
	port, _ := strconv.Atoi(u.Port())
	return &Env{Config: cfg, Kubeconfig: s.Kubeconfig(), DataDir: o.DataDir, Server: s, Port: port, stop: cancel}, nil
}

// Stop stops the control plane and waits until it has.
func (e *Env) Stop() {
	e.stop()
	_ = e.Server.Wait()
}
