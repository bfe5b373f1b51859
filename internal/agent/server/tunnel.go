package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	gwebsocket "github.com/gorilla/websocket"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/httpstream/spdy"
	"k8s.io/apimachinery/pkg/util/portforward"
	"k8s.io/apimachinery/pkg/util/proxy"
	clientportforward "k8s.io/client-go/tools/portforward"
)

// tunnel serves the port-forward WebSocket tunnel: the client speaks SPDY
// inside binary WebSocket messages, so after both upgrades the bytes are
// copied between the tunnel and a SPDY connection to the runtime.
func (s *server) tunnel(w http.ResponseWriter, r *http.Request, target *url.URL) {
	var protocols []string
	for _, p := range gwebsocket.Subprotocols(r) {
		if strings.HasPrefix(p, portforward.WebsocketsSPDYTunnelingPrefix) && strings.HasSuffix(p, portforward.KubernetesSuffix) {
			protocols = append(protocols, strings.TrimPrefix(p, portforward.WebsocketsSPDYTunnelingPrefix))
		}
	}
	// Upgrade at the runtime first: while the client has no answer, a
	// failure is still an HTTP error, on which it falls back to SPDY.
	backend, protocol, err := dialSPDY(r.Context(), s.backend, target, protocols)
	if err != nil {
		writeStatus(w, err, http.StatusBadGateway)
		return
	}
	defer backend.Close()
	up := gwebsocket.Upgrader{
		Subprotocols: []string{portforward.WebsocketsSPDYTunnelingPrefix + protocol},
		// Callers prove who they are with client certificates, not cookies.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		s.log.Info("port-forward: WebSocket upgrade failed", "err", err)
		return
	}
	client := clientportforward.NewTunnelingConnection("server", ws)
	defer client.Close()
	splice(client, backend)
}

// dialSPDY asks the streaming server at target to upgrade to SPDY with one
// of protocols, and returns the connection and the protocol it chose.
func dialSPDY(ctx context.Context, rt http.RoundTripper, target *url.URL, protocols []string) (net.Conn, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set(httpstream.HeaderConnection, httpstream.HeaderUpgrade)
	req.Header.Set(httpstream.HeaderUpgrade, spdy.HeaderSpdy31)
	for _, p := range protocols {
		req.Header.Add(httpstream.HeaderProtocolVersion, p)
	}
	conn, err := proxy.DialURL(ctx, target, rt)
	if err != nil {
		return nil, "", fmt.Errorf("server: dial the runtime's streaming server: %w", err)
	}
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, "", fmt.Errorf("server: %w", err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, "", fmt.Errorf("server: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		conn.Close()
		return nil, "", fmt.Errorf("server: the runtime did not upgrade the port-forward (%s): %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return &bufferedConn{Conn: conn, r: br}, resp.Header.Get(httpstream.HeaderProtocolVersion), nil
}

// bufferedConn reads first what the response reader buffered.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// splice copies both ways until one side ends, then closes both.
func splice(a, b io.ReadWriteCloser) {
	var once sync.Once
	closeBoth := func() { a.Close(); b.Close() }
	var wg sync.WaitGroup
	wg.Add(2)
	copyTo := func(dst io.Writer, src io.Reader) {
		defer wg.Done()
		_, _ = io.Copy(dst, src) // ends when either side goes away
		once.Do(closeBoth)
	}
	go copyTo(a, b)
	go copyTo(b, a)
	wg.Wait()
}
