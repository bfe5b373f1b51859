package servertest

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

// UpperServer is the pod's side of a port-forward test: it listens on a
// loopback port, which it returns, and answers every line with the line
// upper-cased. It stops when the test ends.
func UpperServer(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					_, _ = io.WriteString(c, strings.ToUpper(line))
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// ExpectUpper connects to the local port, sends word on a line of its own
// and fails the test unless UpperServer's answer comes back.
func ExpectUpper(t testing.TB, port int, word string) {
	t.Helper()
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, word+"\n"); err != nil {
		t.Fatal(err)
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || got != strings.ToUpper(word)+"\n" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// Dialer is one of the ways client-go opens a port-forward.
type Dialer struct {
	Name string
	httpstream.Dialer
}

// Dialers are the ways client-go opens a port-forward to u: SPDY, the
// WebSocket tunnel, and the tunnel falling back to SPDY, as kubectl 1.31+
// does.
func Dialers(t testing.TB, cfg *rest.Config, u *url.URL) []Dialer {
	t.Helper()
	rt, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	spdyDialer := spdy.NewDialer(upgrader, &http.Client{Transport: rt}, http.MethodPost, u)
	tunnel, err := portforward.NewSPDYOverWebsocketDialer(u, cfg)
	if err != nil {
		t.Fatal(err)
	}
	fallback := portforward.NewFallbackDialer(tunnel, spdyDialer, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	return []Dialer{{"spdy", spdyDialer}, {"websocket tunnel", tunnel}, {"tunnel, falling back to spdy", fallback}}
}

// Forward starts a port-forward through d to the pod's port and returns
// the local port. The forward stops when the test ends.
func Forward(t testing.TB, d httpstream.Dialer, port int) int {
	t.Helper()
	stop, ready := make(chan struct{}), make(chan struct{})
	pf, err := portforward.New(d, []string{"0:" + strconv.Itoa(port)}, stop, ready, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- pf.ForwardPorts() }()
	t.Cleanup(func() {
		close(stop)
		<-done
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("port-forward: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("port-forward did not get ready")
	}
	ports, err := pf.GetPorts()
	if err != nil {
		t.Fatal(err)
	}
	return int(ports[0].Local)
}
