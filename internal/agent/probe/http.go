package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// maxBody is how much of a response body a probe reads (and reports).
const maxBody = 10 * 1024

// httpProbe runs an httpGet probe. A status from 200 to 399 is Success;
// redirects are followed only while they stay on the same host — a redirect
// elsewhere ends the probe with Success, as with the kubelet. Anything else,
// including a transport error or the timeout, is Failure.
func httpProbe(ctx context.Context, pod *corev1.Pod, c *corev1.Container, g *corev1.HTTPGetAction, timeout time.Duration) (Result, string, error) {
	req, err := httpRequest(ctx, pod, c, g, "probe")
	if err != nil {
		return Unknown, "", err
	}
	client := &http.Client{Timeout: timeout, Transport: newTransport(), CheckRedirect: sameHostRedirects}
	resp, err := client.Do(req)
	if err != nil {
		return Failure, err.Error(), nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return Failure, err.Error(), nil
	}
	switch code := resp.StatusCode; {
	case code >= http.StatusMultipleChoices && code < http.StatusBadRequest:
		return Success, "Probe terminated redirects, Response body: " + string(body), nil
	case code >= http.StatusOK && code < http.StatusMultipleChoices:
		return Success, string(body), nil
	default:
		return Failure, fmt.Sprintf("HTTP probe failed with statuscode: %d", code), nil
	}
}

// httpRequest builds the GET request of an httpGet handler: the host
// defaults to the pod IP, the scheme to http; the path may carry a query;
// httpHeaders are sent as given (a Host header sets the request's host),
// with User-Agent kube-<purpose>/<version> and Accept */* unless set (an
// empty Accept removes it).
func httpRequest(ctx context.Context, pod *corev1.Pod, c *corev1.Container, g *corev1.HTTPGetAction, purpose string) (*http.Request, error) {
	scheme := strings.ToLower(string(g.Scheme))
	if scheme == "" {
		scheme = "http"
	}
	host := g.Host
	if host == "" {
		host = podIP(pod)
	}
	port, err := resolvePort(g.Port, c)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(g.Path)
	if err != nil {
		u = &url.URL{Path: g.Path}
	}
	u.Scheme = scheme
	u.Host = net.JoinHostPort(host, strconv.Itoa(port))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	headers := http.Header{}
	for _, h := range g.HTTPHeaders {
		headers.Add(h.Name, h.Value)
	}
	if _, ok := headers["User-Agent"]; !ok {
		headers.Set("User-Agent", userAgent(purpose))
	}
	if _, ok := headers["Accept"]; !ok {
		headers.Set("Accept", "*/*")
	} else if headers.Get("Accept") == "" {
		headers.Del("Accept")
	}
	req.Header = headers
	req.Host = headers.Get("Host")
	return req, nil
}

// newTransport is a transport for one probe: no keep-alives (each probe is
// a fresh connection), no proxy, and no certificate checks — probes target
// the pod itself, whose certificate the node cannot verify.
func newTransport() *http.Transport {
	return &http.Transport{
		DialContext:       (&net.Dialer{}).DialContext,
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // as the kubelet does
	}
}

// sameHostRedirects follows up to 10 redirects on the original host and
// hands back the redirect response for any other host.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if req.URL.Hostname() != via[0].URL.Hostname() {
		return http.ErrUseLastResponse
	}
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}
