package join

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"skiff.dev/internal/pki"
)

// cluster starts a TLS server with a fresh CA that serves only the join
// endpoints, and counts the join requests it answers.
func cluster(t *testing.T) (url string, tok Token, joins *atomic.Int32) {
	t.Helper()
	certs, err := pki.Ensure(filepath.Join(t.TempDir(), "tls"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err = EnsureToken(filepath.Join(t.TempDir(), "token"), certs.CACert)
	if err != nil {
		t.Fatal(err)
	}
	h := NewHandler(certs, tok)
	joins = new(atomic.Int32)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == JoinPath {
			joins.Add(1)
		}
		h.ServeHTTP(w, r)
	}))
	pair, err := tls.LoadX509KeyPair(certs.ServerCert, certs.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL, tok, joins
}

func TestJoinIssuesNodeCredentialsAndReusesThem(t *testing.T) {
	url, tok, joins := cluster(t)
	dir := t.TempDir()
	req := Request{Server: url, Token: tok.String(), NodeName: "node-1", Hosts: []string{"10.1.2.3"}, Dir: dir}
	creds, err := Join(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.LoadFromFile(creds.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	auth := cfg.AuthInfos[cfg.Contexts[cfg.CurrentContext].AuthInfo]
	pair, err := tls.X509KeyPair(auth.ClientCertificateData, auth.ClientKeyData)
	if err != nil {
		t.Fatal(err)
	}
	if cn, org := pair.Leaf.Subject.CommonName, pair.Leaf.Subject.Organization; cn != "system:node:node-1" || len(org) != 1 || org[0] != "system:nodes" {
		t.Errorf("client certificate is for %q in %v, want system:node:node-1 in [system:nodes]", cn, org)
	}
	serving, err := tls.LoadX509KeyPair(creds.ServingCert, creds.ServingKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := serving.Leaf.VerifyHostname("10.1.2.3"); err != nil {
		t.Errorf("serving certificate: %v", err)
	}
	if _, err := Join(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	if n := joins.Load(); n != 1 {
		t.Errorf("the second join asked the server again (%d join requests); it should reuse the files", n)
	}
	req.NodeName = "node-2"
	if _, err := Join(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	if n := joins.Load(); n != 2 {
		t.Errorf("joining as another node reused the old credentials (%d join requests)", n)
	}
}

func TestJoinRefusesBadTokens(t *testing.T) {
	url, tok, _ := cluster(t)
	for _, tc := range []struct {
		name, token, want string
	}{
		{"wrong secret", Token{CAHash: tok.CAHash, Secret: "nope"}.String(), "join token is not valid"},
		{"other cluster", Token{CAHash: strings.Repeat("0", 64), Secret: tok.Secret}.String(), "does not match the token"},
		{"malformed", "hello", "malformed token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Join(t.Context(), Request{Server: url, Token: tc.token, NodeName: "n", Dir: t.TempDir()})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestJoinRejectsBadNodeName(t *testing.T) {
	url, tok, _ := cluster(t)
	_, err := Join(t.Context(), Request{Server: url, Token: tok.String(), NodeName: "Bad_Name", Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), `invalid node name "Bad_Name"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestEnsureTokenIsStable(t *testing.T) {
	certs, err := pki.Ensure(filepath.Join(t.TempDir(), "tls"), nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "token")
	a, err := EnsureToken(path, certs.CACert)
	if err != nil {
		t.Fatal(err)
	}
	b, err := EnsureToken(path, certs.CACert)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("token changed between calls: %s then %s", a, b)
	}
	if _, err := ParseToken(a.String()); err != nil {
		t.Error(err)
	}
}
