package pki

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func mustEnsure(t *testing.T, dir string, hosts ...string) *Bundle {
	t.Helper()
	b, err := Ensure(dir, hosts)
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	return b
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func parsePEM(t *testing.T, data []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("no PEM block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestEnsureCreatesEveryPair(t *testing.T) {
	b := mustEnsure(t, filepath.Join(t.TempDir(), "tls"))
	pairs := [][2]string{
		{b.ServerCert, b.ServerKey},
		{b.AdminCert, b.AdminKey},
		{b.EtcdServerCert, b.EtcdServerKey},
		{b.EtcdClientCert, b.EtcdClientKey},
		{b.CACert, b.CAKey},
	}
	for _, p := range pairs {
		if _, err := tls.LoadX509KeyPair(p[0], p[1]); err != nil {
			t.Errorf("%s: %v", p[0], err)
		}
		st, err := os.Stat(p[1])
		if err != nil {
			t.Fatal(err)
		}
		if mode := st.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s: mode %o, want 600", p[1], mode)
		}
	}
}

func TestEnsureReuses(t *testing.T) {
	dir := t.TempDir()
	b := mustEnsure(t, dir)
	ca := mustRead(t, b.CACert)
	server := mustRead(t, b.ServerCert)
	admin := mustRead(t, b.AdminCert)

	b = mustEnsure(t, dir)
	if !bytes.Equal(ca, mustRead(t, b.CACert)) {
		t.Error("CA changed on second call")
	}
	if !bytes.Equal(server, mustRead(t, b.ServerCert)) {
		t.Error("serving certificate changed on second call")
	}
	if !bytes.Equal(admin, mustRead(t, b.AdminCert)) {
		t.Error("admin certificate changed on second call")
	}
}

func TestEnsureNewHostReissuesServingCertOnly(t *testing.T) {
	dir := t.TempDir()
	b := mustEnsure(t, dir)
	ca := mustRead(t, b.CACert)
	admin := mustRead(t, b.AdminCert)

	b = mustEnsure(t, dir, "192.0.2.7", "api.example.test")
	if !bytes.Equal(ca, mustRead(t, b.CACert)) {
		t.Error("CA changed when a host was added")
	}
	if !bytes.Equal(admin, mustRead(t, b.AdminCert)) {
		t.Error("admin certificate changed when a host was added")
	}
	cert := parsePEM(t, mustRead(t, b.ServerCert))
	if err := cert.VerifyHostname("api.example.test"); err != nil {
		t.Error(err)
	}
	if err := cert.VerifyHostname("192.0.2.7"); err != nil {
		t.Error(err)
	}
}

func TestEnsureReplacesBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	b := mustEnsure(t, dir)
	ca := mustRead(t, b.CACert)
	if err := os.WriteFile(b.EtcdClientKey, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	b = mustEnsure(t, dir)
	if _, err := tls.LoadX509KeyPair(b.EtcdClientCert, b.EtcdClientKey); err != nil {
		t.Errorf("etcd client pair not repaired: %v", err)
	}
	if !bytes.Equal(ca, mustRead(t, b.CACert)) {
		t.Error("CA changed when a leaf was repaired")
	}

	// A new CA invalidates every leaf signed by the old one.
	if err := os.Remove(b.CAKey); err != nil {
		t.Fatal(err)
	}
	b = mustEnsure(t, dir)
	pool, err := b.CAPool()
	if err != nil {
		t.Fatal(err)
	}
	admin := parsePEM(t, mustRead(t, b.AdminCert))
	if _, err := admin.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("admin certificate not reissued under the new CA: %v", err)
	}
}

func TestServingCertNames(t *testing.T) {
	b := mustEnsure(t, t.TempDir(), "10.1.2.3", "skiff.example.test")
	cert := parsePEM(t, mustRead(t, b.ServerCert))
	pool, err := b.CAPool()
	if err != nil {
		t.Fatal(err)
	}
	names := []string{
		"localhost", "127.0.0.1", "::1",
		"kubernetes", "kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc.cluster.local", "10.43.0.1",
		"10.1.2.3", "skiff.example.test",
	}
	if h, err := os.Hostname(); err == nil {
		names = append(names, h)
	}
	for _, n := range names {
		_, err := cert.Verify(x509.VerifyOptions{DNSName: n, Roots: pool})
		if err != nil {
			t.Errorf("serving certificate does not cover %q: %v", n, err)
		}
	}

	etcd := parsePEM(t, mustRead(t, b.EtcdServerCert))
	if !slices.ContainsFunc(etcd.IPAddresses, net.ParseIP("127.0.0.1").Equal) || !slices.Contains(etcd.DNSNames, "localhost") {
		t.Errorf("etcd serving certificate names: %v %v", etcd.DNSNames, etcd.IPAddresses)
	}
}

func TestClientCertsVerify(t *testing.T) {
	b := mustEnsure(t, t.TempDir())
	pool, err := b.CAPool()
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := IssueClient(b, "alice", []string{"dev", "ops"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		pem    []byte
		cn     string
		groups []string
	}{
		{"issued", certPEM, "alice", []string{"dev", "ops"}},
		{"admin", mustRead(t, b.AdminCert), "system:admin", []string{"system:masters"}},
		{"etcd client", mustRead(t, b.EtcdClientCert), "kube-apiserver-etcd-client", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := parsePEM(t, tt.pem)
			opts := x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
			if _, err := cert.Verify(opts); err != nil {
				t.Fatal(err)
			}
			if cert.Subject.CommonName != tt.cn || !slices.Equal(cert.Subject.Organization, tt.groups) {
				t.Errorf("subject %v, want CN=%s O=%v", cert.Subject, tt.cn, tt.groups)
			}
		})
	}
}

func TestTLSHandshake(t *testing.T) {
	b := mustEnsure(t, t.TempDir())
	pool, err := b.CAPool()
	if err != nil {
		t.Fatal(err)
	}
	serverPair, err := tls.LoadX509KeyPair(b.ServerCert, b.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	clientPair, err := tls.LoadX509KeyPair(b.AdminCert, b.AdminKey)
	if err != nil {
		t.Fatal(err)
	}
	srv, cli := net.Pipe()
	defer srv.Close()
	defer cli.Close()
	done := make(chan error, 1)
	go func() {
		s := tls.Server(srv, &tls.Config{
			Certificates: []tls.Certificate{serverPair},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    pool,
		})
		done <- s.Handshake()
	}()
	c := tls.Client(cli, &tls.Config{
		Certificates: []tls.Certificate{clientPair},
		RootCAs:      pool,
		ServerName:   "kubernetes.default.svc",
	})
	if err := c.Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("server handshake: %v", err)
	}
}
