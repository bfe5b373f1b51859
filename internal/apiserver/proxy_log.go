package apiserver

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/internal/agent/logs"
)

// servePodLog streams a container's log from the agent running the pod
// (GET pods/log).
func (h *resource) servePodLog(w http.ResponseWriter, r *http.Request, ri requestInfo) error {
	if ri.Verb != "get" {
		return h.methodNotSupported(ri)
	}
	opts, err := podLogOptions(r.URL.Query())
	if err != nil {
		return err
	}
	if errs := validatePodLogOptions(opts); len(errs) > 0 {
		return apierrors.NewInvalid(schema.GroupKind{Kind: "PodLogOptions"}, ri.Name, errs)
	}
	pod, err := h.loadPod(r.Context(), ri)
	if err != nil {
		return err
	}
	container, err := podContainer(pod, opts.Container)
	if err != nil {
		return err
	}
	if pod.Spec.NodeName == "" {
		// Upstream answers a pod that is not scheduled yet with no lines.
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusOK)
		return nil
	}
	loc, err := h.srv.agentURL(r.Context(), pod.Spec.NodeName)
	if err != nil {
		return err
	}
	loc.Path = "/containerLogs/" + pod.Namespace + "/" + pod.Name + "/" + container
	loc.RawQuery = agentLogQuery(opts).Encode()
	rt, err := h.srv.kubelet.transport(opts.InsecureSkipTLSVerifyBackend)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, loc.String(), nil)
	if err != nil {
		return err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return backendError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < http.StatusOK || resp.StatusCode > http.StatusPartialContent {
		return agentLogError(resp, ri.Name)
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	copyFlushing(w, resp.Body)
	return nil
}

// agentLogError turns an agent's error answer into the API error upstream
// makes of it: its text becomes the message of a BadRequest or an
// InternalError; other codes keep their reason and, unlike upstream, the
// agent's text too.
func agentLogError(resp *http.Response, name string) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 50000))
	text := strings.TrimSpace(string(b))
	switch resp.StatusCode {
	case http.StatusBadRequest:
		return apierrors.NewBadRequest(text)
	case http.StatusInternalServerError:
		return apierrors.NewInternalError(fmt.Errorf("%s", text))
	}
	err := apierrors.NewGenericServerResponse(resp.StatusCode, "", corev1.Resource("pods/log"), name, text, 0, false)
	if text != "" && resp.StatusCode != http.StatusServiceUnavailable {
		// Upstream keeps a generic message here; the agent's says more.
		err.ErrStatus.Message = text
	}
	return err
}

// copyFlushing copies a log stream, sending each piece on at once so that
// followers see lines as they come.
func copyFlushing(w http.ResponseWriter, r io.Reader) {
	rc := http.NewResponseController(w)
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			_ = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// podLogOptions reads the query of a pods/log request.
func podLogOptions(q url.Values) (*corev1.PodLogOptions, error) {
	o, err := logs.ParseQuery(q)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	return o, nil
}

// validatePodLogOptions checks the options as upstream does.
func validatePodLogOptions(o *corev1.PodLogOptions) field.ErrorList {
	var errs field.ErrorList
	if o.TailLines != nil && *o.TailLines < 0 {
		errs = append(errs, field.Invalid(field.NewPath("tailLines"), *o.TailLines, "must be greater than or equal to 0"))
	}
	if o.LimitBytes != nil && *o.LimitBytes < 1 {
		errs = append(errs, field.Invalid(field.NewPath("limitBytes"), *o.LimitBytes, "must be greater than 0"))
	}
	switch {
	case o.SinceSeconds != nil && o.SinceTime != nil:
		errs = append(errs, field.Forbidden(field.NewPath(""), "at most one of `sinceTime` or `sinceSeconds` may be specified"))
	case o.SinceSeconds != nil && *o.SinceSeconds < 1:
		errs = append(errs, field.Invalid(field.NewPath("sinceSeconds"), *o.SinceSeconds, "must be greater than 0"))
	}
	if o.Stream != nil {
		switch *o.Stream {
		case corev1.LogStreamAll, corev1.LogStreamStdout, corev1.LogStreamStderr:
		default:
			errs = append(errs, field.NotSupported(field.NewPath("stream"), *o.Stream,
				[]string{corev1.LogStreamAll, corev1.LogStreamStderr, corev1.LogStreamStdout}))
		}
	}
	return errs
}

// agentLogQuery is the agent's query for the options, as upstream builds
// the kubelet's.
func agentLogQuery(o *corev1.PodLogOptions) url.Values {
	q := url.Values{}
	if o.Follow {
		q.Set("follow", "true")
	}
	if o.Previous {
		q.Set("previous", "true")
	}
	if o.Timestamps {
		q.Set("timestamps", "true")
	}
	if o.SinceSeconds != nil {
		q.Set("sinceSeconds", strconv.FormatInt(*o.SinceSeconds, 10))
	}
	if o.SinceTime != nil {
		q.Set("sinceTime", o.SinceTime.Format(time.RFC3339))
	}
	if o.TailLines != nil {
		q.Set("tailLines", strconv.FormatInt(*o.TailLines, 10))
	}
	if o.LimitBytes != nil {
		q.Set("limitBytes", strconv.FormatInt(*o.LimitBytes, 10))
	}
	if o.Stream != nil {
		q.Set("stream", *o.Stream)
	}
	return q
}
