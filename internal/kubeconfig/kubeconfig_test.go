package kubeconfig

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"skiff.dev/internal/pki"
)

func TestWriteLoadsBack(t *testing.T) {
	dir := t.TempDir()
	b, err := pki.Ensure(filepath.Join(dir, "tls"), nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "admin.kubeconfig")
	const url = "https://127.0.0.1:6443"
	if err := Write(path, url, b.CACert, b.AdminCert, b.AdminKey); err != nil {
		t.Fatal(err)
	}
	// Writing twice replaces the file in place.
	if err := Write(path, url, b.CACert, b.AdminCert, b.AdminKey); err != nil {
		t.Fatal(err)
	}

	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := st.Mode().Perm(); mode != 0o600 {
		t.Errorf("mode %o, want 600", mode)
	}

	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CurrentContext != Name {
		t.Errorf("current-context %q, want %q", cfg.CurrentContext, Name)
	}

	// The file must not point at the data dir: move the certificates away.
	if err := os.RemoveAll(filepath.Join(dir, "tls")); err != nil {
		t.Fatal(err)
	}
	rc, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	if rc.Host != url {
		t.Errorf("host %q, want %q", rc.Host, url)
	}
	if len(rc.TLSClientConfig.CAData) == 0 || len(rc.TLSClientConfig.CertData) == 0 || len(rc.TLSClientConfig.KeyData) == 0 {
		t.Error("CA, certificate or key not embedded")
	}
	if rc.TLSClientConfig.CAFile != "" || rc.TLSClientConfig.CertFile != "" {
		t.Error("kubeconfig refers to files")
	}
	if !bytes.Contains(rc.TLSClientConfig.CertData, []byte("BEGIN CERTIFICATE")) {
		t.Error("certificate data is not PEM")
	}
	tc, err := rest.TLSConfigFor(rc)
	if err != nil {
		t.Fatalf("TLS config: %v", err)
	}
	if tc.RootCAs == nil || tc.GetClientCertificate == nil {
		t.Error("TLS config lacks the CA or the client certificate")
	}
}

func TestWriteMissingFile(t *testing.T) {
	dir := t.TempDir()
	err := Write(filepath.Join(dir, "k"), "https://127.0.0.1:1", filepath.Join(dir, "nope"), "", "")
	if err == nil {
		t.Fatal("want an error for a missing CA file")
	}
}
