package images

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Option configures Serve.
type Option func(*options)

type options struct {
	user, password string
	logger         *log.Logger
}

// WithBasicAuth makes the registry demand HTTP basic credentials on every
// request (401 with a Basic challenge without them), so tests can exercise
// imagePullSecrets. Serve pushes with these credentials.
func WithBasicAuth(user, password string) Option {
	return func(o *options) { o.user, o.password = user, password }
}

// WithLogger logs one line per registry request to l (default: none).
func WithLogger(l *log.Logger) Option {
	return func(o *options) { o.logger = l }
}

// A Registry is an in-process OCI distribution registry serving images from
// memory over plain HTTP.
type Registry struct {
	addr string
	srv  *http.Server
	auth authn.Authenticator

	closeOnce sync.Once
	closeErr  error
	done      chan struct{}
}

// Serve starts a registry listening on addr (e.g. "127.0.0.1:0") and pushes
// imgs into it. A key of imgs is a reference: "repository:tag" or a full one
// such as PauseRef, whose registry host is dropped, so PauseRef is served as
// <Addr>/pause:3.10. The registry runs until Close or until ctx is done.
func Serve(ctx context.Context, addr string, imgs map[string]v1.Image, opts ...Option) (*Registry, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	logger := o.logger
	if logger == nil {
		logger = log.New(io.Discard, "", 0)
	}
	var h http.Handler = registry.New(registry.Logger(logger))
	r := &Registry{auth: authn.Anonymous, done: make(chan struct{})}
	if o.user != "" || o.password != "" {
		h = basicAuth(h, o.user, o.password)
		r.auth = &authn.Basic{Username: o.user, Password: o.password}
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("images: registry listen: %w", err)
	}
	r.addr = l.Addr().String()
	r.srv = &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second}
	go func() {
		defer close(r.done)
		_ = r.srv.Serve(l)
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = r.Close()
		case <-r.done:
		}
	}()
	for ref, img := range imgs {
		if err := r.Push(ctx, ref, img); err != nil {
			_ = r.Close()
			return nil, err
		}
	}
	return r, nil
}

// Addr is the registry's host:port, e.g. "127.0.0.1:40123".
func (r *Registry) Addr() string { return r.addr }

// Ref rewrites a reference to point at this registry: PauseRef becomes
// "<Addr>/pause:3.10", and so does "pause:3.10".
func (r *Registry) Ref(ref string) (string, error) {
	repo, id, err := splitRef(ref)
	if err != nil {
		return "", err
	}
	return r.addr + "/" + repo + id, nil
}

// Push adds an image to the running registry under ref (see Serve for the
// forms a reference may take).
func (r *Registry) Push(ctx context.Context, ref string, img v1.Image) error {
	local, err := r.Ref(ref)
	if err != nil {
		return err
	}
	dst, err := name.ParseReference(local, name.Insecure)
	if err != nil {
		return fmt.Errorf("images: push %s: %w", ref, err)
	}
	if err := remote.Write(dst, img, remote.WithContext(ctx), remote.WithAuth(r.auth)); err != nil {
		return fmt.Errorf("images: push %s: %w", ref, err)
	}
	return nil
}

// Close stops the registry and waits for its server to end.
func (r *Registry) Close() error {
	r.closeOnce.Do(func() {
		err := r.srv.Close()
		<-r.done
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.closeErr = fmt.Errorf("images: registry close: %w", err)
		}
	})
	return r.closeErr
}

// splitRef parses a reference and returns its repository path (without a
// registry host) and its tag (":tag") or digest ("@sha256:...").
func splitRef(ref string) (repo, id string, err error) {
	if first, _, found := strings.Cut(ref, "/"); !found || (first != "localhost" && !strings.ContainsAny(first, ".:")) {
		// "pause:3.10" or "library/x:1": prefix our own host so that the
		// parser does not assume Docker Hub and add "library/".
		ref = RegistryHost + "/" + ref
	}
	parsed, err := name.ParseReference(ref, name.WithDefaultRegistry(RegistryHost))
	if err != nil {
		return "", "", fmt.Errorf("images: reference %q: %w", ref, err)
	}
	repo = parsed.Context().RepositoryStr()
	switch p := parsed.(type) {
	case name.Tag:
		return repo, ":" + p.TagStr(), nil
	case name.Digest:
		return repo, "@" + p.DigestStr(), nil
	}
	return "", "", fmt.Errorf("images: reference %q: neither tag nor digest", ref)
}

// basicAuth wraps h with HTTP basic authentication, answering 401 as a
// distribution registry does.
func basicAuth(h http.Handler, user, password string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		u, p, ok := req.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(user)) != 1 ||
			subtle.ConstantTimeCompare([]byte(p), []byte(password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="skiff"`)
			w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`+"\n")
			return
		}
		h.ServeHTTP(w, req)
	})
}
