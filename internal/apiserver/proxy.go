package apiserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/proxy"
)

// defaultKubeletPort is where a node agent listens when its Node does not
// say (status.daemonEndpoints.kubeletEndpoint.port).
const defaultKubeletPort = 10250

// serveAgent answers the subresources that the node agent running a pod
// serves: pods/log, pods/exec, pods/attach, pods/portforward, and
// nodes/proxy. The API server finds the node and proxies the request, or
// the upgraded connection, to it over HTTPS.
func (h *resource) serveAgent(w http.ResponseWriter, r *http.Request, ri requestInfo) error {
	switch h.gr.Resource + "/" + ri.Subresource {
	case "pods/log":
		return h.servePodLog(w, r, ri)
	case "pods/exec", "pods/attach", "pods/portforward":
		return h.servePodStream(w, r, ri)
	case "nodes/proxy":
		return h.serveNodeProxy(w, r, ri)
	}
	return apierrors.NewServiceUnavailable(fmt.Sprintf("%s/%s is not served yet", h.res.Name, ri.Subresource))
}

// loadPod reads the pod a request names.
func (h *resource) loadPod(ctx context.Context, ri requestInfo) (*corev1.Pod, error) {
	obj, _, err := h.load(ctx, ri.Namespace, ri.Name)
	if err != nil {
		return nil, err
	}
	return obj.(*corev1.Pod), nil
}

// podContainer picks the container a request means, as upstream does: the
// named one, which must exist, or the only one. A pod with more containers
// may name its default in the kubectl.kubernetes.io/default-container
// annotation.
func podContainer(pod *corev1.Pod, name string) (string, error) {
	var names []string
	for _, c := range pod.Spec.InitContainers {
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.EphemeralContainers {
		names = append(names, c.Name)
	}
	has := func(n string) bool {
		for _, c := range names {
			if c == n {
				return true
			}
		}
		return false
	}
	if name != "" {
		if !has(name) {
			return "", badRequest("container %s is not valid for pod %s", name, pod.Name)
		}
		return name, nil
	}
	if len(pod.Spec.Containers) == 1 {
		return pod.Spec.Containers[0].Name, nil
	}
	if def := pod.Annotations["kubectl.kubernetes.io/default-container"]; def != "" && has(def) {
		return def, nil
	}
	if len(pod.Spec.Containers) == 0 {
		return "", badRequest("a container name must be specified for pod %s", pod.Name)
	}
	return "", badRequest("a container name must be specified for pod %s, choose one of: %s", pod.Name, names)
}

// agentURL is the base URL of the agent on a node: its InternalIP (else
// its first address) and its kubelet port.
func (s *Server) agentURL(ctx context.Context, nodeName string) (*url.URL, error) {
	nodes := s.resource("", "v1", "nodes")
	if nodes == nil {
		return nil, apierrors.NewServiceUnavailable("this server has no nodes")
	}
	obj, _, err := nodes.load(ctx, "", nodeName)
	if err != nil {
		return nil, err
	}
	node := obj.(*corev1.Node)
	host := ""
	for _, a := range node.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			host = a.Address
			break
		}
	}
	if host == "" && len(node.Status.Addresses) > 0 {
		host = node.Status.Addresses[0].Address
	}
	if host == "" {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("node %q reports no address", nodeName))
	}
	port := int(node.Status.DaemonEndpoints.KubeletEndpoint.Port)
	if port <= 0 {
		port = defaultKubeletPort
	}
	return &url.URL{Scheme: "https", Host: net.JoinHostPort(host, strconv.Itoa(port))}, nil
}

// kubeletClient holds the transports to node agents.
type kubeletClient struct {
	verified, insecure *http.Transport // nil without Options.KubeletTLS
}

func newKubeletClient(c *tls.Config) *kubeletClient {
	if c == nil {
		return &kubeletClient{}
	}
	transport := func(insecure bool) *http.Transport {
		tc := c.Clone()
		// Upgrades (exec, attach, port-forward) need HTTP/1.1.
		tc.NextProtos = []string{"http/1.1"}
		tc.InsecureSkipVerify = tc.InsecureSkipVerify || insecure
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		return &http.Transport{TLSClientConfig: tc, DialContext: d.DialContext, TLSHandshakeTimeout: 10 * time.Second,
			IdleConnTimeout: 90 * time.Second, MaxIdleConnsPerHost: 8}
	}
	return &kubeletClient{verified: transport(false), insecure: transport(true)}
}

// transport returns the transport to agents; insecure skips verifying
// their serving certificates (PodLogOptions.insecureSkipTLSVerifyBackend).
func (k *kubeletClient) transport(insecure bool) (*http.Transport, error) {
	if k.verified == nil {
		return nil, apierrors.NewServiceUnavailable("this API server has no client credentials for node agents")
	}
	if insecure {
		return k.insecure, nil
	}
	return k.verified, nil
}

// backendError is how upstream reports a failure to reach a backend: code
// 500 with no reason and the error as the message (kubectl prints "Error
// from server: error dialing backend: …").
func backendError(err error) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure,
		Code: http.StatusInternalServerError, Message: err.Error()}}
}

// proxyTo proxies a request, upgraded or not, to an agent.
func (s *Server) proxyTo(w http.ResponseWriter, r *http.Request, loc *url.URL, rt *http.Transport, wrap, upgradeRequired bool) {
	h := proxy.NewUpgradeAwareHandler(loc, rt, wrap, upgradeRequired, proxyResponder{})
	r = r.Clone(r.Context())
	// The caller's credentials are for this server, not for the agent.
	r.Header.Del("Authorization")
	h.ServeHTTP(hijackable(w), r)
}

// proxyResponder answers proxy errors as API errors.
type proxyResponder struct{}

func (proxyResponder) Error(w http.ResponseWriter, r *http.Request, err error) {
	if _, ok := err.(apierrors.APIStatus); !ok {
		err = backendError(err)
	}
	writeError(w, r, err)
}

// hijackable gives the upgrade proxy the connection under the response
// writers that wrap it, and records the switch for metrics.
func hijackable(w http.ResponseWriter) http.ResponseWriter {
	inner := w
	for {
		if hj, ok := inner.(http.Hijacker); ok {
			if inner == w {
				return w
			}
			return &hijackWriter{ResponseWriter: w, hj: hj}
		}
		u, ok := inner.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		inner = u.Unwrap()
	}
}

type hijackWriter struct {
	http.ResponseWriter
	hj http.Hijacker
}

func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := w.hj.Hijack()
	if err == nil {
		if sw, ok := w.ResponseWriter.(*statusWriter); ok {
			sw.code, sw.wroteHeader = http.StatusSwitchingProtocols, true
		}
	}
	return c, rw, err
}

// Flush passes flushes on, for proxied responses that stream.
func (w *hijackWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// methodNotSupported is the error for a verb a subresource does not take.
func (h *resource) methodNotSupported(ri requestInfo) error {
	return apierrors.NewMethodNotSupported(schema.GroupResource{Group: h.gr.Group, Resource: h.gr.Resource + "/" + ri.Subresource}, ri.Verb)
}
