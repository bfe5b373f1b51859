// Package ctrltest runs control loops against a real control plane inside
// a Go test: a testenv server without the controller manager, the loops
// under test on a shared ctrl.Context, and hollow (sim) nodes whose pods
// start at once.
package ctrltest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/clock"

	"skiff.dev/internal/agent"
	"skiff.dev/internal/controllers/ctrl"
	skiffnode "skiff.dev/internal/node"
	"skiff.dev/internal/server"
)

// Env is a control plane with a Context for loops under test.
type Env struct {
	// Server is the running control plane; DataDir its data directory.
	Server  *server.Server
	DataDir string
	// Config reaches the API server as the cluster admin; Kubeconfig is
	// the same for kubectl.
	Config     *rest.Config
	Kubeconfig string
	Client     kubernetes.Interface
	Ctx        *ctrl.Context
	t          testing.TB
}

// Start starts a control plane with the scheduler but no controller
// manager (it starts the server itself rather than through testenv, which
// links every loop in), and a Context on it with opts and clk (nil: real
// time).
func Start(t testing.TB, opts ctrl.Options, clk clock.WithTicker) *Env {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := server.Start(ctx, server.Options{DataDir: dir, BindAddress: "127.0.0.1", WithoutControllers: true})
	if err != nil {
		cancel()
		t.Fatalf("ctrltest: %v", err)
	}
	t.Cleanup(func() { cancel(); _ = s.Wait() })
	cfg, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	cc, err := ctrl.NewContext(cfg, nil, clk, opts)
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Server: s, DataDir: dir, Config: cfg, Kubeconfig: s.Kubeconfig(), Client: cc.Client, Ctx: cc, t: t}
}

// Run builds the loops, starts the shared informers and runs the loops
// until the test ends.
func (e *Env) Run(news ...func(*ctrl.Context) (ctrl.Controller, error)) {
	e.t.Helper()
	var loops []ctrl.Controller
	for _, n := range news {
		c, err := n(e.Ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		loops = append(loops, c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.Ctx.Start(ctx)
	var wg sync.WaitGroup
	for _, c := range loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Run(ctx)
		}()
	}
	e.t.Cleanup(func() {
		cancel()
		wg.Wait()
		e.Ctx.Shutdown()
	})
}

// Node is a running hollow node.
type Node struct {
	Name string
	stop context.CancelFunc
	n    *skiffnode.Node
}

// Stop stops the node's agent (its Node object stays), as if the machine
// went away.
func (n *Node) Stop() {
	n.stop()
	_ = n.n.Wait()
}

// SimNodes starts hollow nodes with the given names (4 CPUs, 16 GiB,
// 110 pods each) and waits until they are Ready. tune, when set, adjusts
// each agent (e.g. how containers exit).
func (e *Env) SimNodes(tune func(*agent.Options), names ...string) []*Node {
	e.t.Helper()
	token, err := os.ReadFile(filepath.Join(e.DataDir, "token"))
	if err != nil {
		e.t.Fatal(err)
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("4"),
		corev1.ResourceMemory: resource.MustParse("16Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	var nodes []*Node
	for _, name := range names {
		ctx, cancel := context.WithCancel(context.Background())
		n, err := skiffnode.Start(ctx, skiffnode.Options{Server: e.Server.URL(), Token: string(token), NodeName: name,
			DataDir: e.t.TempDir(), Runtime: skiffnode.RuntimeSim, KubeletPort: -1, Capacity: capacity, Tune: tune})
		if err != nil {
			cancel()
			e.t.Fatal(err)
		}
		node := &Node{Name: name, stop: cancel, n: n}
		nodes = append(nodes, node)
		e.t.Cleanup(node.Stop)
	}
	for _, n := range nodes {
		e.WaitFor(time.Minute, "node "+n.Name+" Ready", func(ctx context.Context) (bool, error) {
			node, err := e.Client.CoreV1().Nodes().Get(ctx, n.Name, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			for _, c := range node.Status.Conditions {
				if c.Type == corev1.NodeReady {
					return c.Status == corev1.ConditionTrue, nil
				}
			}
			return false, nil
		})
	}
	return nodes
}

// WaitFor polls cond every 100 ms until it holds, failing the test with
// what after timeout or on an error.
func (e *Env) WaitFor(timeout time.Duration, what string, cond func(context.Context) (bool, error)) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		ok, err := cond(ctx)
		if err != nil {
			last = err
			return false, nil
		}
		return ok, nil
	})
	if err != nil {
		e.t.Fatalf("waiting for %s: %v", what, fmt.Errorf("%w (last error: %v)", err, last))
	}
}
