package apiserver

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"

	"skiff.dev/internal/registry"
	"skiff.dev/internal/store"
	"skiff.dev/internal/watchcache"
)

// PathHandler serves a set of paths besides the resources, such as the
// discovery and OpenAPI documents.
type PathHandler interface {
	http.Handler
	Handles(path string) bool
}

// Options configure an API server.
type Options struct {
	Store     *store.Store
	Resources []registry.Resource
	// Authorizer decides what authenticated users may do; nil means
	// BootstrapAuthorizer.
	Authorizer Authorizer
	// Paths are extra documents served to authenticated users.
	Paths []PathHandler
	// Version is reported at /version.
	Version version.Info
	// BookmarkInterval is how often watches that allow bookmarks get one;
	// zero means a minute, as upstream.
	BookmarkInterval time.Duration
	Log              *slog.Logger
	// KubeletTLS is the client side of HTTPS to node agents, for logs,
	// exec, attach, port-forward and nodes/proxy: the cluster CA as
	// RootCAs and the API server's kubelet-client certificate. Nil answers
	// those requests with 503.
	KubeletTLS *tls.Config
	// DefaultNotReadyTolerationSeconds and DefaultUnreachableTolerationSeconds
	// are the tolerationSeconds of the tolerations for the NoExecute taints
	// node.kubernetes.io/not-ready and node.kubernetes.io/unreachable that
	// new pods get unless they have their own (upstream's
	// DefaultTolerationSeconds admission); zero means 300.
	DefaultNotReadyTolerationSeconds    int64
	DefaultUnreachableTolerationSeconds int64
}

// Server is the API server's HTTP handler.
type Server struct {
	opts      Options
	log       *slog.Logger
	resources map[string]*resource // by "group/version/resource"
	caches    map[string]*watchcache.Cache
	metrics   *metrics
	ready     sync.WaitGroup
	started   chan struct{}
	kubelet   *kubeletClient
}

// New builds an API server over a store. Call Run to start its caches.
func New(o Options) (*Server, error) {
	if o.Store == nil {
		return nil, errors.New("apiserver: Options.Store is required")
	}
	if o.Authorizer == nil {
		o.Authorizer = BootstrapAuthorizer
	}
	if o.BookmarkInterval == 0 {
		o.BookmarkInterval = time.Minute
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: o, log: o.Log, resources: map[string]*resource{},
		caches: map[string]*watchcache.Cache{}, metrics: newMetrics(), started: make(chan struct{}),
		kubelet: newKubeletClient(o.KubeletTLS)}
	for _, res := range o.Resources {
		h, err := newResource(s, res)
		if err != nil {
			return nil, err
		}
		key := res.Kind.Group + "/" + res.Kind.Version + "/" + res.Name
		if _, dup := s.resources[key]; dup {
			return nil, fmt.Errorf("apiserver: resource %s listed twice", key)
		}
		s.resources[key] = h
	}
	return s, nil
}

// Run starts the watch caches and blocks until ctx ends.
func (s *Server) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, c := range s.caches {
		wg.Add(1)
		go func() { defer wg.Done(); c.Run(ctx) }()
	}
	close(s.started)
	wg.Wait()
}

// Ready reports whether every cache has its first list.
func (s *Server) Ready(ctx context.Context) error {
	for _, c := range s.caches {
		if err := c.WaitFor(ctx, 0); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) resource(group, version, name string) *resource {
	return s.resources[group+"/"+version+"/"+name]
}

// ServeHTTP answers one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
	ri, isResource := parseRequest(r)
	defer func() { s.metrics.observe(ri, isResource, r, rw.code, time.Since(start)) }()
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
			if !rw.wroteHeader {
				writeError(rw, r, apierrors.NewInternalError(fmt.Errorf("the server failed on this request: %v", p)))
			}
		}
	}()
	if s.servePublic(rw, r) {
		return
	}
	u, ok := authenticate(r)
	if !ok {
		writeError(rw, r, apierrors.NewUnauthorized("Unauthorized"))
		return
	}
	r = r.WithContext(withUser(r.Context(), u))
	attrs := Attributes{User: u, Verb: ri.Verb, Group: ri.Group, Resource: ri.Resource, Subresource: ri.Subresource,
		Namespace: ri.Namespace, Name: ri.Name, Path: r.URL.Path, IsResource: isResource && ri.Resource != ""}
	if !attrs.IsResource {
		attrs.Verb = strings.ToLower(r.Method)
	}
	if allowed, reason := s.opts.Authorizer.Authorize(r.Context(), attrs); !allowed {
		msg := forbiddenMessage(attrs)
		if reason != "" {
			msg += ": " + reason
		}
		writeError(rw, r, apierrors.NewForbidden(schema.GroupResource{Group: ri.Group, Resource: ri.Resource}, ri.Name, errors.New(msg)))
		return
	}
	if r.URL.Path == "/metrics" {
		s.metrics.ServeHTTP(rw, r)
		return
	}
	for _, p := range s.opts.Paths {
		if p.Handles(r.URL.Path) {
			p.ServeHTTP(rw, r)
			return
		}
	}
	if !isResource || ri.Resource == "" {
		writeError(rw, r, apierrors.NewNotFound(schema.GroupResource{}, r.URL.Path))
		return
	}
	h := s.resource(ri.Group, ri.Version, ri.Resource)
	if h == nil {
		writeError(rw, r, apierrors.NewNotFound(schema.GroupResource{Group: ri.Group, Resource: ri.Resource}, ""))
		return
	}
	h.serve(rw, r, ri)
}

// servePublic answers the paths anyone may read: health and version.
func (s *Server) servePublic(w http.ResponseWriter, r *http.Request) bool {
	switch strings.TrimSuffix(r.URL.Path, "/") {
	case "/healthz", "/livez":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "ok")
		return true
	case "/readyz":
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.checkReady(ctx); err != nil {
			http.Error(w, "[-]"+err.Error()+"\nreadyz check failed", http.StatusInternalServerError)
			return true
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "ok")
		return true
	case "/version":
		w.Header().Set("Content-Type", mediaJSON)
		b, _ := json.MarshalIndent(s.opts.Version, "", "  ")
		_, _ = w.Write(b)
		return true
	}
	return false
}

func (s *Server) checkReady(ctx context.Context) error {
	select {
	case <-s.started:
	default:
		return errors.New("caches not started")
	}
	if _, err := s.opts.Store.Revision(ctx); err != nil {
		return fmt.Errorf("etcd: %w", err)
	}
	return s.Ready(ctx)
}

// statusWriter remembers the status code for metrics and passes flushes on.
type statusWriter struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.code, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
