package apiserver

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// servePodStream proxies exec, attach and port-forward to the agent that
// runs the pod. The client's upgrade (SPDY, or WebSocket including
// v5.channel.k8s.io and the port-forward tunnel) goes through unchanged;
// the agent speaks them all.
func (h *resource) servePodStream(w http.ResponseWriter, r *http.Request, ri requestInfo) error {
	if ri.Verb != "get" && ri.Verb != "create" {
		return h.methodNotSupported(ri)
	}
	if err := h.authorizeCreate(r, ri); err != nil {
		return err
	}
	pod, err := h.loadPod(r.Context(), ri)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	params := url.Values{}
	var path string
	if ri.Subresource == "portforward" {
		for _, v := range q["ports"] {
			for _, p := range strings.Split(v, ",") {
				if n, err := strconv.ParseUint(strings.TrimSpace(p), 10, 16); err != nil || n == 0 {
					return badRequest("invalid port %q", p)
				}
			}
			params.Add(corev1.PortHeader, v)
		}
		path = "/portForward/" + pod.Namespace + "/" + pod.Name
	} else {
		container, err := podContainer(pod, q.Get("container"))
		if err != nil {
			return err
		}
		// The API's names for the streams become the kubelet's.
		for from, to := range map[string]string{"stdin": corev1.ExecStdinParam, "stdout": corev1.ExecStdoutParam,
			"stderr": corev1.ExecStderrParam, "tty": corev1.ExecTTYParam} {
			if on, _ := strconv.ParseBool(q.Get(from)); on {
				params.Set(to, "1")
			}
		}
		if ri.Subresource == "exec" {
			params[corev1.ExecCommandParam] = q[corev1.ExecCommandParam]
		}
		path = "/" + ri.Subresource + "/" + pod.Namespace + "/" + pod.Name + "/" + container
	}
	if pod.Spec.NodeName == "" {
		return badRequest("pod %s does not have a host assigned", pod.Name)
	}
	loc, err := h.srv.agentURL(r.Context(), pod.Spec.NodeName)
	if err != nil {
		return err
	}
	loc.Path, loc.RawQuery = path, params.Encode()
	rt, err := h.srv.kubelet.transport(false)
	if err != nil {
		return err
	}
	h.srv.proxyTo(w, r, loc, rt, false, true)
	return nil
}

// authorizeCreate asks, for a GET (a WebSocket) to exec, attach or
// port-forward, whether the user may also create the subresource: these
// run commands whatever the method, so upstream requires create for both.
func (h *resource) authorizeCreate(r *http.Request, ri requestInfo) error {
	if ri.Verb == "create" {
		return nil
	}
	a := Attributes{User: userFrom(r.Context()), Verb: "create", Group: ri.Group, Resource: ri.Resource,
		Subresource: ri.Subresource, Namespace: ri.Namespace, Name: ri.Name, Path: r.URL.Path, IsResource: true}
	if ok, reason := h.srv.opts.Authorizer.Authorize(r.Context(), a); !ok {
		msg := forbiddenMessage(a)
		if reason != "" {
			msg += ": " + reason
		}
		return apierrors.NewForbidden(schema.GroupResource{Group: ri.Group, Resource: ri.Resource}, ri.Name, errorf("%s", msg))
	}
	return nil
}

// serveNodeProxy proxies /api/v1/nodes/{name}/proxy/{path} to the agent
// on that node.
func (h *resource) serveNodeProxy(w http.ResponseWriter, r *http.Request, ri requestInfo) error {
	loc, err := h.srv.agentURL(r.Context(), ri.Name)
	if err != nil {
		return err
	}
	// The rest of the path, with its trailing slash; "" redirects to "/".
	_, rest, _ := strings.Cut(r.URL.Path, "/nodes/"+ri.Name+"/proxy")
	loc.Path = rest
	rt, err := h.srv.kubelet.transport(false)
	if err != nil {
		return err
	}
	h.srv.proxyTo(w, r, loc, rt, true, false)
	return nil
}
