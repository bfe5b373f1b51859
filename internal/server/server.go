// Package server assembles a skiff control plane: the certificates, the
// cluster store (embedded etcd or external endpoints) and the API server. It
// is a thin wiring of components that each own their state.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"skiff.dev/internal/apiserver"
	"skiff.dev/internal/controllers/ctrl"
	"skiff.dev/internal/controllers/manager"
	"skiff.dev/internal/discovery"
	"skiff.dev/internal/join"
	"skiff.dev/internal/kubeconfig"
	"skiff.dev/internal/openapi"
	"skiff.dev/internal/pki"
	"skiff.dev/internal/registry"
	"skiff.dev/internal/store"
	"skiff.dev/internal/version"
)

// Options configure a control plane.
type Options struct {
	// DataDir holds etcd's data, the certificates and admin.kubeconfig.
	DataDir string
	// APIPort is the HTTPS port of the API server; 0 picks a free one.
	APIPort int
	// BindAddress is the address the API server listens on; empty means all.
	BindAddress string
	// EtcdServers, when set, are the client URLs of an external etcd used
	// instead of the embedded one.
	EtcdServers []string
	// Log receives the server's log lines; nil discards them.
	Log io.Writer
	// BookmarkInterval overrides how often watches get bookmarks (tests).
	BookmarkInterval time.Duration
	// WithoutScheduler leaves pods unscheduled, for tests that bring
	// their own scheduler or none.
	WithoutScheduler bool
	// Loops are the control loops the controller manager may run (the
	// caller passes controllers.All(); this package does not link them
	// in, so that their tests can start a control plane). None, or
	// WithoutControllers, runs no controller manager.
	Loops []manager.Entry
	// WithoutControllers runs no controller manager, for tests that run
	// their own loops or none.
	WithoutControllers bool
	// Controllers picks control loops as --controllers does ("*", "name",
	// "-name"); empty runs them all.
	Controllers []string
	// ControllerOptions tune the control loops (grace periods, workers).
	ControllerOptions ctrl.Options
	// Clock is the control loops' clock; nil is the real one (tests
	// inject a fake one to fire CronJobs).
	Clock clock.WithTicker
	// DefaultNotReadyTolerationSeconds and DefaultUnreachableTolerationSeconds
	// are the tolerationSeconds admission gives pods for the not-ready and
	// unreachable NoExecute taints; 0 means upstream's 300.
	DefaultNotReadyTolerationSeconds, DefaultUnreachableTolerationSeconds int64
}

// Server is a running control plane.
type Server struct {
	url        string
	kubeconfig string
	certs      *pki.Bundle
	api        *apiserver.Server
	store      *store.Store
	etcd       *store.Embedded
	token      join.Token
	done       chan struct{}
	err        error
}

// Start starts a control plane and returns once the API answers.
// Cancelling ctx stops it; Wait reports how it ended.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.DataDir == "" {
		return nil, errors.New("server: a data directory is required")
	}
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	log := slog.New(slog.NewTextHandler(logw, nil))
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	var hosts []string
	if o.BindAddress != "" && o.BindAddress != "0.0.0.0" && o.BindAddress != "::" {
		hosts = append(hosts, o.BindAddress)
	}
	certs, err := pki.Ensure(filepath.Join(o.DataDir, "tls"), hosts)
	if err != nil {
		return nil, err
	}
	tok, err := join.EnsureToken(filepath.Join(o.DataDir, "token"), certs.CACert)
	if err != nil {
		return nil, err
	}
	s := &Server{certs: certs, done: make(chan struct{}), token: tok,
		kubeconfig: filepath.Join(o.DataDir, "admin.kubeconfig")}
	ctx, cancel := context.WithCancel(ctx)
	ok := false
	defer func() {
		if !ok {
			cancel()
			s.closeStore()
		}
	}()
	if err := s.openStore(ctx, o, certs); err != nil {
		return nil, err
	}
	resources := registry.All()
	extra, err := paths(resources)
	if err != nil {
		return nil, err
	}
	kubeletTLS, err := kubeletClientTLS(certs)
	if err != nil {
		return nil, err
	}
	api, err := apiserver.New(apiserver.Options{
		KubeletTLS:                          kubeletTLS,
		DefaultNotReadyTolerationSeconds:    o.DefaultNotReadyTolerationSeconds,
		DefaultUnreachableTolerationSeconds: o.DefaultUnreachableTolerationSeconds,
		Store:                               s.store,
		Resources:                           resources,
		Version:                             version.Info(),
		BookmarkInterval:                    o.BookmarkInterval,
		Log:                                 log,
		Paths:                               extra,
	})
	if err != nil {
		return nil, err
	}
	s.api = api
	go api.Run(ctx)

	ln, err := net.Listen("tcp", net.JoinHostPort(o.BindAddress, strconv.Itoa(o.APIPort)))
	if err != nil {
		return nil, fmt.Errorf("server: listen on port %d: %w", o.APIPort, err)
	}
	tlsConfig, err := serverTLS(certs)
	if err != nil {
		ln.Close()
		return nil, err
	}
	httpSrv := &http.Server{Handler: withJoin(join.NewHandler(certs, tok), api), TLSConfig: tlsConfig, ReadHeaderTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	go func() { _ = httpSrv.ServeTLS(ln, "", "") }()

	host := "127.0.0.1"
	if len(hosts) > 0 {
		host = hosts[0]
	}
	s.url = "https://" + net.JoinHostPort(host, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	if err := api.Ready(ctx); err != nil {
		return nil, err
	}
	if err := kubeconfig.Write(s.kubeconfig, s.url, certs.CACert, certs.AdminCert, certs.AdminKey); err != nil {
		return nil, err
	}
	cfg, err := clientConfig(s.kubeconfig, "skiff-controller-manager")
	if err != nil {
		return nil, err
	}
	if err := bootstrap(ctx, cfg); err != nil {
		return nil, err
	}
	var managerDone <-chan struct{}
	if !o.WithoutControllers && len(o.Loops) > 0 {
		if managerDone, err = startControllers(ctx, o, log); err != nil {
			return nil, err
		}
	}
	if !o.WithoutScheduler {
		if err := startScheduler(ctx, s.kubeconfig, log); err != nil {
			return nil, err
		}
	}
	ok = true
	go func() {
		defer close(s.done)
		var etcdErr <-chan error
		if s.etcd != nil {
			etcdErr = s.etcd.Err()
		}
		select {
		case <-ctx.Done():
		case err := <-etcdErr:
			s.err = fmt.Errorf("server: etcd stopped: %w", err)
		}
		cancel()
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer scancel()
		if managerDone != nil {
			// Let the controller manager release its Lease while the API
			// still answers, so another server can take over at once.
			select {
			case <-managerDone:
			case <-sctx.Done():
			}
		}
		_ = httpSrv.Shutdown(sctx)
		httpSrv.Close()
		s.closeStore()
	}()
	log.Info("API server ready", "url", s.url)
	// Hand the start-up garbage (decoded schemas, certificates, the first
	// lists) back to the OS now rather than when the scavenger gets to it.
	go debug.FreeOSMemory()
	return s, nil
}

func (s *Server) openStore(ctx context.Context, o Options, certs *pki.Bundle) error {
	if len(o.EtcdServers) > 0 {
		ca, cert, key := "", "", ""
		if strings.HasPrefix(o.EtcdServers[0], "https://") {
			ca, cert, key = certs.CACert, certs.EtcdClientCert, certs.EtcdClientKey
		}
		client, err := store.Dial(ctx, o.EtcdServers, ca, cert, key)
		if err != nil {
			return err
		}
		s.store = store.New(client)
		return nil
	}
	e, err := store.StartEmbedded(ctx, store.EmbeddedOptions{
		Dir:      filepath.Join(o.DataDir, "etcd"),
		CAFile:   certs.CACert,
		CertFile: certs.EtcdServerCert,
		KeyFile:  certs.EtcdServerKey,
		LogFile:  filepath.Join(o.DataDir, "etcd.log"),
	})
	if err != nil {
		return err
	}
	s.etcd = e
	s.store = store.New(e.Client())
	return nil
}

func (s *Server) closeStore() {
	if s.store != nil {
		_ = s.store.Client().Close()
	}
	if s.etcd != nil {
		s.etcd.Close()
	}
}

func paths(res []registry.Resource) ([]apiserver.PathHandler, error) {
	out := []apiserver.PathHandler{discovery.New(res)}
	oa, err := openapi.New(res)
	if err != nil {
		return nil, err
	}
	return append(out, oa), nil
}

func serverTLS(certs *pki.Bundle) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certs.ServerCert, certs.ServerKey)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	pool, err := certs.CAPool()
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.VerifyClientCertIfGiven,
		ClientCAs: pool, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}, nil
}

// withJoin serves the join endpoints, which agents reach before they have
// credentials, next to the API.
func withJoin(j *join.Handler, api http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if j.Handles(r.URL.Path) {
			j.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

// Token is the join token agents need, also kept in DATA_DIR/token.
func (s *Server) Token() string { return s.token.String() }

// kubeletClientTLS is how the API server reaches node agents: it checks
// their serving certificates against the cluster CA and shows its
// kubelet-client certificate.
func kubeletClientTLS(certs *pki.Bundle) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certs.KubeletClientCert, certs.KubeletClientKey)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	pool, err := certs.CAPool()
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// URL is the API server's base URL, e.g. https://127.0.0.1:6443.
func (s *Server) URL() string { return s.url }

// Kubeconfig is the path of the admin kubeconfig.
func (s *Server) Kubeconfig() string { return s.kubeconfig }

// Certs are the cluster's certificate files.
func (s *Server) Certs() *pki.Bundle { return s.certs }

// EtcdURL is the embedded etcd's client URL, "" with external etcd.
func (s *Server) EtcdURL() string {
	if s.etcd == nil {
		return ""
	}
	return s.etcd.ClientURL
}

// Wait blocks until the server has stopped and returns why.
func (s *Server) Wait() error { <-s.done; return s.err }

// Done is closed when the server has stopped.
func (s *Server) Done() <-chan struct{} { return s.done }
