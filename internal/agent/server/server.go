package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/internal/runtime"
)

// Pods maps the API's names to what runs on this node. The agent
// implements it; its errors may be apierrors (NotFound, BadRequest) and
// their messages reach the user.
type Pods interface {
	// Container returns the runtime ID and log path of a container: the
	// current instance, or with previous the last terminated one.
	Container(namespace, pod, container string, previous bool) (id, logPath string, err error)
	// Sandbox returns the runtime ID of a pod's sandbox.
	Sandbox(namespace, pod string) (string, error)
}

// Options configure the agent's API.
type Options struct {
	Runtime runtime.Runtime
	Pods    Pods
	Log     *slog.Logger
	// Authorize, when set, is asked about every request but /healthz; an
	// error is answered with 403 Forbidden and its message.
	Authorize func(*http.Request) error
	// StreamIdleTimeout closes a translated exec or attach stream that
	// carries nothing for this long; zero means 4 hours, as the kubelet.
	StreamIdleTimeout time.Duration
}

// server holds what the handlers share.
type server struct {
	runtime runtime.Runtime
	pods    Pods
	log     *slog.Logger
	idle    time.Duration
	// backend reaches the runtime's streaming server.
	backend *http.Transport
}

// New returns the agent's API handler.
func New(o Options) (http.Handler, error) {
	if o.Runtime == nil {
		return nil, errors.New("server: Options.Runtime is required")
	}
	if o.Pods == nil {
		return nil, errors.New("server: Options.Pods is required")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.StreamIdleTimeout == 0 {
		o.StreamIdleTimeout = 4 * time.Hour
	}
	s := &server{runtime: o.Runtime, pods: o.Pods, log: o.Log, idle: o.StreamIdleTimeout,
		backend: &http.Transport{}}
	mux := http.NewServeMux()
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		for _, p := range []string{"/exec/{ns}/{pod}/{container}", "/exec/{ns}/{pod}/{uid}/{container}"} {
			mux.HandleFunc(method+" "+p, s.serveExec)
		}
		for _, p := range []string{"/attach/{ns}/{pod}/{container}", "/attach/{ns}/{pod}/{uid}/{container}"} {
			mux.HandleFunc(method+" "+p, s.serveAttach)
		}
		for _, p := range []string{"/portForward/{ns}/{pod}", "/portForward/{ns}/{pod}/{uid}"} {
			mux.HandleFunc(method+" "+p, s.servePortForward)
		}
	}
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", s.serveLogs)
	mux.HandleFunc("GET /healthz", serveHealthz)
	if o.Authorize == nil {
		return mux, nil
	}
	authorize := o.Authorize
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			if err := authorize(r); err != nil {
				httpError(w, err.Error(), http.StatusForbidden)
				return
			}
		}
		mux.ServeHTTP(w, r)
	}), nil
}

func serveHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprint(w, "ok")
}

// errorOf reads the status code and message of err: from an API or gRPC
// error, else fallback and the error's text.
func errorOf(err error, fallback int) (int, string) {
	var api apierrors.APIStatus
	if errors.As(err, &api) {
		if st := api.Status(); st.Code != 0 {
			return int(st.Code), st.Message
		}
		return fallback, api.Status().Message
	}
	if st, ok := grpcstatus.FromError(err); ok {
		switch st.Code() {
		case codes.NotFound:
			return http.StatusNotFound, st.Message()
		case codes.InvalidArgument:
			return http.StatusBadRequest, st.Message()
		case codes.ResourceExhausted:
			return http.StatusTooManyRequests, st.Message()
		}
		return fallback, st.Message()
	}
	return fallback, err.Error()
}

// writeError answers a log request that failed before any output, in
// plain text as the kubelet does.
func writeError(w http.ResponseWriter, err error, fallback int) {
	code, msg := errorOf(err, fallback)
	httpError(w, msg, code)
}

// httpError writes msg as a plain text answer, without the newline that
// http.Error adds, since the API server passes the text on as a message.
func httpError(w http.ResponseWriter, msg string, code int) {
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, msg)
}

// writeStatus answers a stream request (exec, attach, port-forward) that
// failed before the upgrade with a metav1.Status: client-go reads such a
// body as the error, where it would take a plain text message that holds
// ": " for YAML and lose it.
func writeStatus(w http.ResponseWriter, err error, fallback int) {
	code, msg := errorOf(err, fallback)
	st := metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status: metav1.StatusFailure, Code: int32(code), Message: msg, Reason: reasonFor(code)}
	var api apierrors.APIStatus
	if errors.As(err, &api) && api.Status().Reason != "" {
		st.Reason, st.Details = api.Status().Reason, api.Status().Details
	}
	b, _ := json.Marshal(st)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func reasonFor(code int) metav1.StatusReason {
	switch code {
	case http.StatusBadRequest:
		return metav1.StatusReasonBadRequest
	case http.StatusForbidden:
		return metav1.StatusReasonForbidden
	case http.StatusNotFound:
		return metav1.StatusReasonNotFound
	case http.StatusTooManyRequests:
		return metav1.StatusReasonTooManyRequests
	case http.StatusInternalServerError:
		return metav1.StatusReasonInternalError
	}
	return metav1.StatusReasonUnknown
}
