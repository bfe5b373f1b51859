// Package node assembles a worker node: it joins the cluster with the join
// token, starts a container runtime, the agent, and the agent's HTTPS API
// that the API server reaches for logs, exec, attach and port-forward. It is
// a thin wiring of components that each own their state, used by
// `skiff agent`, `skiff up` and `skiff sim`.
package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"

	"skiff.dev/internal/agent"
	"skiff.dev/internal/agent/server"
	"skiff.dev/internal/join"
	"skiff.dev/internal/pki"
	"skiff.dev/internal/runtime"
	"skiff.dev/internal/runtime/process"
	"skiff.dev/internal/runtime/sim"
)

// Runtimes a node can use.
const (
	RuntimeProcess = "process"
	RuntimeSim     = "sim"
)

// DefaultKubeletPort is the port of the agent's HTTPS API, as the kubelet's.
const DefaultKubeletPort = 10250

// Options configure a node.
type Options struct {
	// Server is the API server's URL and Token the cluster's join token.
	Server, Token string
	// NodeName is the name the node registers as.
	NodeName string
	// DataDir holds the node's credentials, runtime state, pods and logs.
	DataDir string
	// Runtime is RuntimeCRI, RuntimeProcess or RuntimeSim; empty means
	// DefaultRuntime().
	Runtime string
	// Containerd is the containerd binary RuntimeCRI runs ("containerd"
	// on PATH if empty); ContainerdLog receives its output
	// (DataDir/containerd.log if nil).
	Containerd    string
	ContainerdLog io.Writer
	// Registries maps registry hosts to the URLs containerd pulls them
	// from (see ReadRegistries); skiff's own registry.skiff.local is added.
	Registries map[string]string
	// KubeletPort is the agent API's port; 0 picks a free one, -1 serves
	// no API (hollow nodes).
	KubeletPort int
	// Addresses are the node's addresses; empty means the host's first
	// non-loopback IPv4 address (else 127.0.0.1) and the node name.
	Addresses []corev1.NodeAddress
	// Capacity overrides the node's resources (hollow nodes).
	Capacity corev1.ResourceList
	// MaxPods is the node's pod capacity (default 110).
	MaxPods int
	// Log receives the node's log lines; nil discards them.
	Log *slog.Logger
	// Tune adjusts the agent's options before it starts (tests, sim).
	Tune func(*agent.Options)
}

// Node is a running node.
type Node struct {
	name    string
	runtime string
	done    chan struct{}
	err     error
}

// Start joins the cluster and starts the node; it returns once the agent
// runs. Cancelling ctx stops it; Wait reports how it ended.
func Start(ctx context.Context, o Options) (*Node, error) {
	if o.Runtime == "" {
		o.Runtime = DefaultRuntime()
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if len(o.Addresses) == 0 {
		o.Addresses = agent.DefaultAddresses(o.NodeName)
	}
	var hosts []string
	for _, a := range o.Addresses {
		hosts = append(hosts, a.Address)
	}
	creds, err := join.Join(ctx, join.Request{Server: o.Server, Token: o.Token, NodeName: o.NodeName,
		Hosts: hosts, Dir: filepath.Join(o.DataDir, "tls")})
	if err != nil {
		return nil, err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", creds.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	cfg.UserAgent = "skiff-agent/" + o.NodeName
	// The kubelet's default (50/100) caps a node at a few pod starts a
	// second (each start is several status writes and events); skiff's
	// agents are close to their API server, so let a burst through.
	cfg.QPS, cfg.Burst = 500, 1000
	var (
		rt  runtime.Runtime
		img runtime.Images
		cd  *containerdNode
	)
	if o.Runtime == RuntimeCRI {
		if cd, err = startContainerd(ctx, o, o.Log); err != nil {
			return nil, err
		}
		rt, img = cd.containerd.Runtime(), cd.containerd.Images()
	} else if rt, err = newRuntime(o, internalIP(o.Addresses)); err != nil {
		return nil, err
	}
	ao := agent.Options{Config: cfg, NodeName: o.NodeName, DataDir: o.DataDir, Runtime: rt, Images: img,
		Addresses: o.Addresses, Capacity: o.Capacity, MaxPods: o.MaxPods, Log: o.Log.With("node", o.NodeName)}
	var ln net.Listener
	if o.KubeletPort >= 0 {
		ln, err = net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(o.KubeletPort)))
		if err != nil {
			return nil, fmt.Errorf("node: listen on the kubelet port %d: %w", o.KubeletPort, err)
		}
		ao.KubeletPort = int32(ln.Addr().(*net.TCPAddr).Port)
	}
	if o.Tune != nil {
		o.Tune(&ao)
	}
	a, err := agent.New(ao)
	if err != nil {
		closeListener(ln)
		cd.stopIfRunning()
		return nil, err
	}
	var srv *http.Server
	if ln != nil {
		if srv, err = apiServer(a, rt, creds, o.Log); err != nil {
			ln.Close()
			cd.stopIfRunning()
			return nil, err
		}
		go func() { _ = srv.ServeTLS(ln, "", "") }()
	}
	n := &Node{name: o.NodeName, runtime: o.Runtime, done: make(chan struct{})}
	if cd != nil {
		n.runtime += " (" + cd.containerd.Version() + ")"
		go cd.writeNetwork(ctx, cfg, o.NodeName, o.Log)
	}
	go func() {
		defer close(n.done)
		n.err = a.Run(ctx)
		cd.stopIfRunning()
		if srv != nil {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			_ = srv.Shutdown(sctx)
			cancel()
		}
		if c, ok := rt.(interface{ Close() error }); ok {
			_ = c.Close()
		}
		if errors.Is(n.err, context.Canceled) {
			n.err = nil
		}
	}()
	return n, nil
}

func newRuntime(o Options, hostIP string) (runtime.Runtime, error) {
	switch o.Runtime {
	case RuntimeProcess:
		return process.New(process.Options{Dir: filepath.Join(o.DataDir, "runtime"), HostIP: hostIP,
			Log: o.Log.With("runtime", "process")})
	case RuntimeSim:
		return sim.New(sim.Options{HostIP: hostIP})
	}
	return nil, fmt.Errorf("node: unknown runtime %q: want %s, %s or %s", o.Runtime, RuntimeCRI, RuntimeProcess, RuntimeSim)
}

// apiServer is the agent's HTTPS API. Only callers with a client
// certificate from the cluster CA in group system:masters (the API server's
// kubelet-client identity, or an admin) get past /healthz.
func apiServer(a *agent.Agent, rt runtime.Runtime, creds *join.Credentials, log *slog.Logger) (*http.Server, error) {
	h, err := server.New(server.Options{Runtime: rt, Pods: a, Log: log, Authorize: func(r *http.Request) error {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			return errors.New("a client certificate from the cluster CA is required")
		}
		if !slices.Contains(r.TLS.VerifiedChains[0][0].Subject.Organization, pki.AdminGroup) {
			return fmt.Errorf("user %q may not use the node API", r.TLS.VerifiedChains[0][0].Subject.CommonName)
		}
		return nil
	}})
	if err != nil {
		return nil, err
	}
	pair, err := tls.LoadX509KeyPair(creds.ServingCert, creds.ServingKey)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	pool, err := (&pki.Bundle{CACert: creds.CACert}).CAPool()
	if err != nil {
		return nil, err
	}
	return &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool,
			ClientAuth: tls.VerifyClientCertIfGiven, MinVersion: tls.VersionTLS12,
			// exec, attach and port-forward hijack the connection: HTTP/1.1 only.
			NextProtos: []string{"http/1.1"}}}, nil
}

func closeListener(ln net.Listener) {
	if ln != nil {
		ln.Close()
	}
}

// Name is the node's name.
func (n *Node) Name() string { return n.name }

// Runtime names the container runtime the node uses.
func (n *Node) Runtime() string { return n.runtime }

// Wait blocks until the node has stopped and returns why.
func (n *Node) Wait() error { <-n.done; return n.err }

// Done is closed when the node has stopped.
func (n *Node) Done() <-chan struct{} { return n.done }
