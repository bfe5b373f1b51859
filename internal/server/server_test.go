package server

import (
	"bytes"
	"context"
	"net"
	"os"
	"strings"
	"testing"
)

// TestRestartReusesCertificatesAndData: a second start on the same data
// dir keeps the CA (clients' kubeconfigs stay valid) and the store.
func TestRestartReusesCertificatesAndData(t *testing.T) {
	dir := t.TempDir()
	start := func() (*Server, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		s, err := Start(ctx, Options{DataDir: dir, BindAddress: "127.0.0.1"})
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		return s, cancel
	}
	s, stop := start()
	ca1, err := os.ReadFile(s.Certs().CACert)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Kubeconfig()); err != nil {
		t.Fatalf("admin kubeconfig: %v", err)
	}
	stop()
	_ = s.Wait()

	s2, stop2 := start()
	defer func() { stop2(); _ = s2.Wait() }()
	ca2, err := os.ReadFile(s2.Certs().CACert)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ca1, ca2) {
		t.Fatal("the CA changed across a restart")
	}
}

// TestPortInUse: a taken API port fails the start with a message naming it.
func TestPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	_, err = Start(context.Background(), Options{DataDir: t.TempDir(), BindAddress: "127.0.0.1", APIPort: port})
	if err == nil || !strings.Contains(err.Error(), "listen on port") {
		t.Fatalf("start on a taken port: got %v", err)
	}
}
