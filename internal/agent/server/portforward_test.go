package server

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

// dialers are the ways client-go opens a port-forward: kubectl 1.31+ uses
// the fallback one, tunnel first.
var dialers = []struct {
	name string
	new  func(t *testing.T, cfg *rest.Config, u *url.URL) httpstream.Dialer
}{
	{"spdy", spdyDialer},
	{"websocket tunnel", func(t *testing.T, cfg *rest.Config, u *url.URL) httpstream.Dialer {
		d, err := portforward.NewSPDYOverWebsocketDialer(u, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}},
	{"tunnel, falling back to spdy", func(t *testing.T, cfg *rest.Config, u *url.URL) httpstream.Dialer {
		tunnel, err := portforward.NewSPDYOverWebsocketDialer(u, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return portforward.NewFallbackDialer(tunnel, spdyDialer(t, cfg, u), func(err error) bool {
			return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
		})
	}},
}

func spdyDialer(t *testing.T, cfg *rest.Config, u *url.URL) httpstream.Dialer {
	rt, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return spdy.NewDialer(upgrader, &http.Client{Transport: rt}, http.MethodPost, u)
}

// echoServer answers every line with the line upper-cased.
func echoServer(t *testing.T) int {
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

// forward starts a port-forward to the pod's port and returns the local
// port.
func forward(t *testing.T, d httpstream.Dialer, port int) int {
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

func TestPortForward(t *testing.T) {
	a := startAgent(t, nil)
	cfg := &rest.Config{Host: a.url.String()}
	port := echoServer(t)
	for _, d := range dialers {
		t.Run(d.name, func(t *testing.T) {
			local := forward(t, d.new(t, cfg, a.at("/portForward/default/web", nil)), port)
			// Two connections in turn, each its own pair of streams.
			for _, word := range []string{"ping", "pong"} {
				c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(local)))
				if err != nil {
					t.Fatal(err)
				}
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.WriteString(c, word+"\n"); err != nil {
					t.Fatal(err)
				}
				got, err := bufio.NewReader(c).ReadString('\n')
				c.Close()
				if err != nil || got != strings.ToUpper(word)+"\n" {
					t.Fatalf("got %q, %v", got, err)
				}
			}
		})
	}
}

func TestPortForwardToAMissingPod(t *testing.T) {
	a := startAgent(t, nil)
	cfg := &rest.Config{Host: a.url.String()}
	for _, d := range dialers {
		t.Run(d.name, func(t *testing.T) {
			_, _, err := d.new(t, cfg, a.at("/portForward/default/nope", nil)).Dial("portforward.k8s.io")
			if err == nil || !strings.Contains(err.Error(), `pods "nope" not found`) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}
