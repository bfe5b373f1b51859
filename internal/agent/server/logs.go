package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"skiff.dev/internal/agent/logs"
)

// serveLogs streams a container's log, as GET /containerLogs does on the
// kubelet.
func (s *server) serveLogs(w http.ResponseWriter, r *http.Request) {
	opts, err := logOptions(r.URL.Query())
	if err != nil {
		httpError(w, err.Error(), http.StatusBadRequest)
		return
	}
	id, path, err := s.pods.Container(r.PathValue("ns"), r.PathValue("pod"), r.PathValue("container"), opts.Previous)
	if err != nil {
		writeError(w, err, http.StatusBadRequest)
		return
	}
	o := logs.FromPodLogOptions(opts, time.Now())
	o.Running = func(ctx context.Context) bool { return s.running(ctx, id) }
	fw := &flushWriter{w: w}
	err = logs.Read(r.Context(), path, o, fw)
	switch {
	case err == nil, errors.Is(err, context.Canceled):
	case !fw.started:
		writeError(w, err, http.StatusBadRequest)
	default:
		s.log.Debug("log stream ended", "path", path, "err", err)
	}
}

// running reports whether the runtime runs container id.
func (s *server) running(ctx context.Context, id string) bool {
	st, err := s.runtime.ContainerStatus(ctx, id, false)
	return err == nil && st.GetStatus().GetState() == runtimeapi.ContainerState_CONTAINER_RUNNING
}

// logOptions reads the query of a log request, kubelet style: "tail" is an
// older name of tailLines, and "all" means no tail.
func logOptions(q url.Values) (*corev1.PodLogOptions, error) {
	if tail := q.Get("tail"); q.Get("tailLines") == "" && tail != "" && tail != "all" {
		q.Set("tailLines", tail)
	}
	o, err := logs.ParseQuery(q)
	if bad, ok := errors.AsType[*logs.QueryError](err); ok {
		// The agent's own, shorter wording.
		return nil, fmt.Errorf("invalid %s %q", bad.Param, bad.Value)
	}
	if err != nil {
		return nil, err
	}
	return o, validateLogOptions(o)
}

// validateLogOptions checks what the API server checks too, for callers
// that come straight to the agent.
func validateLogOptions(o *corev1.PodLogOptions) error {
	switch {
	case o.TailLines != nil && *o.TailLines < 0:
		return errors.New("tailLines must be greater than or equal to 0")
	case o.LimitBytes != nil && *o.LimitBytes < 1:
		return errors.New("limitBytes must be greater than 0")
	case o.SinceSeconds != nil && o.SinceTime != nil:
		return errors.New("at most one of `sinceTime` or `sinceSeconds` may be specified")
	case o.SinceSeconds != nil && *o.SinceSeconds < 1:
		return errors.New("sinceSeconds must be greater than 0")
	case o.Stream != nil && *o.Stream != corev1.LogStreamAll && *o.Stream != corev1.LogStreamStdout && *o.Stream != corev1.LogStreamStderr:
		return fmt.Errorf("stream %q is not one of All, Stdout, Stderr", *o.Stream)
	}
	return nil
}

// flushWriter sends every write on at once, and commits the response at
// the first write (the empty one logs.Read makes when the log is open).
type flushWriter struct {
	w       http.ResponseWriter
	started bool
}

func (fw *flushWriter) Write(p []byte) (int, error) {
	if !fw.started {
		fw.started = true
		fw.w.Header().Set("Content-Type", "text/plain")
		fw.w.WriteHeader(http.StatusOK)
	}
	n, err := fw.w.Write(p)
	if err == nil {
		err = http.NewResponseController(fw.w).Flush()
	}
	return n, err
}
