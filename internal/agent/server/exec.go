package server

import (
	"errors"
	"net/http"
	"net/url"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream/wsstream"
	"k8s.io/apimachinery/pkg/util/proxy"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// streams are the standard streams a client asks to connect.
type streams struct {
	stdin, stdout, stderr, tty bool
}

// streamsOf reads the input, output, error and tty parameters ("1" or
// "true"). With a TTY, stderr is merged into stdout, as the kubelet does.
func streamsOf(r *http.Request) (streams, error) {
	q := r.URL.Query()
	on := func(name string) bool { v := q.Get(name); return v == "1" || v == "true" }
	s := streams{stdin: on(corev1.ExecStdinParam), stdout: on(corev1.ExecStdoutParam),
		stderr: on(corev1.ExecStderrParam), tty: on(corev1.ExecTTYParam)}
	if s.tty {
		s.stderr = false
	}
	if !s.stdin && !s.stdout && !s.stderr {
		return s, errors.New("you must specify at least 1 of stdin, stdout, stderr")
	}
	return s, nil
}

func (s *server) serveExec(w http.ResponseWriter, r *http.Request)   { s.serveCommand(w, r, true) }
func (s *server) serveAttach(w http.ResponseWriter, r *http.Request) { s.serveCommand(w, r, false) }

// serveCommand connects a client to a command run in a container (exec) or
// to the container's own streams (attach).
func (s *server) serveCommand(w http.ResponseWriter, r *http.Request, exec bool) {
	st, err := streamsOf(r)
	if err != nil {
		writeStatus(w, err, http.StatusBadRequest)
		return
	}
	cmd := r.URL.Query()[corev1.ExecCommandParam]
	if exec && len(cmd) == 0 {
		writeStatus(w, errors.New("you must specify at least one command for the container"), http.StatusBadRequest)
		return
	}
	id, _, err := s.pods.Container(r.PathValue("ns"), r.PathValue("pod"), r.PathValue("container"), false)
	if err != nil {
		writeStatus(w, err, http.StatusBadRequest)
		return
	}
	var streamURL string
	if exec {
		resp, rerr := s.runtime.Exec(r.Context(), &runtimeapi.ExecRequest{ContainerId: id, Cmd: cmd,
			Tty: st.tty, Stdin: st.stdin, Stdout: st.stdout, Stderr: st.stderr})
		streamURL, err = resp.GetUrl(), rerr
	} else {
		resp, rerr := s.runtime.Attach(r.Context(), &runtimeapi.AttachRequest{ContainerId: id,
			Tty: st.tty, Stdin: st.stdin, Stdout: st.stdout, Stderr: st.stderr})
		streamURL, err = resp.GetUrl(), rerr
	}
	if err != nil {
		writeStatus(w, err, http.StatusInternalServerError)
		return
	}
	target, err := url.Parse(streamURL)
	if err != nil {
		writeStatus(w, err, http.StatusInternalServerError)
		return
	}
	if wsstream.IsWebSocketRequestWithStreamCloseProtocol(r) {
		s.translate(w, r, target, st)
		return
	}
	s.proxy(w, r, target)
}

// proxy passes an upgrade request on to the runtime's streaming server.
func (s *server) proxy(w http.ResponseWriter, r *http.Request, target *url.URL) {
	h := proxy.NewUpgradeAwareHandler(target, s.backend, false, true, responder{s})
	h.ServeHTTP(w, r)
}

// responder answers errors of the upgrade proxy.
type responder struct{ s *server }

func (rs responder) Error(w http.ResponseWriter, r *http.Request, err error) {
	rs.s.log.Info("proxying a stream to the runtime failed", "path", r.URL.Path, "err", err)
	writeStatus(w, err, http.StatusInternalServerError)
}
