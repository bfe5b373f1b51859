package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream/wsstream"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// servePortForward forwards connections to ports of a pod: proxied to the
// runtime as SPDY or a v4 WebSocket, or spliced from the WebSocket tunnel.
func (s *server) servePortForward(w http.ResponseWriter, r *http.Request) {
	ports, err := portsOf(r.URL.Query())
	if err != nil {
		writeStatus(w, err, http.StatusBadRequest)
		return
	}
	sandbox, err := s.pods.Sandbox(r.PathValue("ns"), r.PathValue("pod"))
	if err != nil {
		writeStatus(w, err, http.StatusBadRequest)
		return
	}
	resp, err := s.runtime.PortForward(r.Context(), &runtimeapi.PortForwardRequest{PodSandboxId: sandbox, Port: ports})
	if err != nil {
		writeStatus(w, err, http.StatusInternalServerError)
		return
	}
	target, err := url.Parse(resp.GetUrl())
	if err != nil {
		writeStatus(w, err, http.StatusInternalServerError)
		return
	}
	if wsstream.IsWebSocketRequestWithTunnelingProtocol(r) {
		s.tunnel(w, r, target)
		return
	}
	s.proxy(w, r, target)
}

// portsOf reads the "port" parameters, each a port or a comma-separated
// list. Only WebSocket clients name their ports up front; SPDY clients name
// them per stream.
func portsOf(q url.Values) ([]int32, error) {
	var ports []int32
	for _, v := range q[corev1.PortHeader] {
		for _, p := range strings.Split(v, ",") {
			n, err := strconv.ParseUint(strings.TrimSpace(p), 10, 16)
			if err != nil || n == 0 {
				return nil, fmt.Errorf("invalid port %q", p)
			}
			ports = append(ports, int32(n))
		}
	}
	return ports, nil
}
