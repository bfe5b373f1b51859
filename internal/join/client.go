package join

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/internal/kubeconfig"
	"skiff.dev/internal/pki"
)

// Request says which cluster to join and as which node.
type Request struct {
	// Server is the API server's URL, e.g. https://10.0.0.5:6443.
	Server string
	// Token is the cluster's join token.
	Token string
	// NodeName is the node to join as.
	NodeName string
	// Hosts are the node's addresses, put in its serving certificate.
	Hosts []string
	// Dir keeps the credentials between runs.
	Dir string
}

// Credentials are the files a joined node uses.
type Credentials struct {
	// Kubeconfig reaches the API server as system:node:<name>.
	Kubeconfig string
	// CACert is the cluster CA; ServingCert and ServingKey are the node's
	// HTTPS server pair.
	CACert, ServingCert, ServingKey string
}

// Join returns the node's credentials, fetching new ones from the server
// unless Dir already holds valid ones for this cluster and node.
func Join(ctx context.Context, r Request) (*Credentials, error) {
	tok, err := ParseToken(r.Token)
	if err != nil {
		return nil, err
	}
	if r.Server == "" || r.NodeName == "" || r.Dir == "" {
		return nil, errors.New("join: Server, NodeName and Dir are required")
	}
	c := &Credentials{
		Kubeconfig:  filepath.Join(r.Dir, "node.kubeconfig"),
		CACert:      filepath.Join(r.Dir, "ca.crt"),
		ServingCert: filepath.Join(r.Dir, "serving.crt"),
		ServingKey:  filepath.Join(r.Dir, "serving.key"),
	}
	if c.valid(tok, r.NodeName) {
		return c, kubeconfig.Write(c.Kubeconfig, r.Server, c.CACert, c.clientCert(), c.clientKey())
	}
	ca, err := fetchCA(ctx, r.Server, tok)
	if err != nil {
		return nil, err
	}
	resp, err := post(ctx, r, tok, ca)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(r.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	for path, data := range map[string]string{
		c.CACert: resp.CA, c.clientCert(): resp.ClientCert, c.clientKey(): resp.ClientKey,
		c.ServingCert: resp.ServingCert, c.ServingKey: resp.ServingKey,
	} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			return nil, fmt.Errorf("join: %w", err)
		}
	}
	return c, kubeconfig.Write(c.Kubeconfig, r.Server, c.CACert, c.clientCert(), c.clientKey())
}

func (c *Credentials) clientCert() string { return filepath.Join(filepath.Dir(c.CACert), "node.crt") }
func (c *Credentials) clientKey() string  { return filepath.Join(filepath.Dir(c.CACert), "node.key") }

// valid tells whether the files on disk belong to the token's cluster and
// to node, and have at least a day left.
func (c *Credentials) valid(tok Token, node string) bool {
	ca, err := os.ReadFile(c.CACert)
	if err != nil || HashCA(ca) != tok.CAHash {
		return false
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return false
	}
	for _, f := range []struct{ cert, key, cn string }{
		{c.clientCert(), c.clientKey(), pki.NodeUserPrefix + node},
		{c.ServingCert, c.ServingKey, node},
	} {
		pair, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil || pair.Leaf == nil {
			return false
		}
		_, err = pair.Leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
			CurrentTime: time.Now().Add(24 * time.Hour)})
		if err != nil || pair.Leaf.Subject.CommonName != f.cn {
			return false
		}
	}
	return true
}

// fetchCA downloads the CA without trusting the connection and accepts it
// only when it matches the token's hash.
func fetchCA(ctx context.Context, server string, tok Token) ([]byte, error) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // checked against the token's hash below
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(server, "/")+CACertsPath, nil)
	if err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("join: cannot reach the server: %w", err)
	}
	defer resp.Body.Close()
	ca, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("join: %s answered %s to the CA request", server, resp.Status)
	}
	if block, _ := pem.Decode(ca); block == nil || HashCA(ca) != tok.CAHash {
		return nil, fmt.Errorf("join: the CA of %s does not match the token; is the token from this server's DATA_DIR/token?", server)
	}
	return ca, nil
}

// post asks for the node's certificates over a connection verified with ca.
func post(ctx context.Context, r Request, tok Token, ca []byte) (*response, error) {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
	}}
	body, _ := json.Marshal(request{NodeName: r.NodeName, Hosts: r.Hosts})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(r.Server, "/")+JoinPath, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok.Secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var st metav1.Status
		if json.Unmarshal(data, &st) == nil && st.Message != "" {
			return nil, fmt.Errorf("join: the server refused to join node %q: %s", r.NodeName, st.Message)
		}
		return nil, fmt.Errorf("join: the server answered %s", resp.Status)
	}
	var out response
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("join: bad answer from the server: %w", err)
	}
	return &out, nil
}
