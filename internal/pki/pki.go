package pki

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Bundle holds the paths of the certificate and key files Ensure keeps.
type Bundle struct {
	CACert, CAKey                 string
	ServerCert, ServerKey         string
	AdminCert, AdminKey           string
	EtcdServerCert, EtcdServerKey string
	EtcdClientCert, EtcdClientKey string
	// KubeletClientCert and KubeletClientKey are what the API server shows
	// node agents when it proxies logs, exec and port-forward to them.
	KubeletClientCert, KubeletClientKey string
}

// Names and lifetimes of what Ensure issues.
const (
	AdminUser  = "system:admin"
	AdminGroup = "system:masters"
	// KubeletClientUser is the API server's name towards node agents.
	KubeletClientUser = "kube-apiserver-kubelet-client"
	// NodeGroup is the group of every node agent; NodeUserPrefix plus the
	// node's name is its user, as upstream's Node authorizer expects.
	NodeGroup      = "system:nodes"
	NodeUserPrefix = "system:node:"

	caLifetime   = 10 * 365 * 24 * time.Hour
	leafLifetime = 365 * 24 * time.Hour
	// renewBefore is how close to expiry a leaf may get before Ensure
	// replaces it.
	renewBefore = 90 * 24 * time.Hour
)

// ServiceIP is the first address of the default service CIDR, the ClusterIP
// of the "kubernetes" service in the default namespace.
const ServiceIP = "10.43.0.1"

// leaf describes one certificate signed by the CA.
type leaf struct {
	cert, key *string // fields of the Bundle
	tmpl      func() *x509.Certificate
}

// Ensure makes sure dir holds a CA and every leaf certificate, creating or
// replacing what is missing or no longer valid, and returns their paths.
// hosts are extra IP addresses or DNS names for the API serving
// certificate; when one is new, only the serving certificate is reissued.
func Ensure(dir string, hosts []string) (*Bundle, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	b := bundleIn(dir)

	ca, caKey, err := loadCA(b.CACert, b.CAKey)
	if err != nil {
		if ca, caKey, err = createCA(b.CACert, b.CAKey); err != nil {
			return nil, err
		}
	}

	dnsNames, ips := serverNames(hosts)
	leaves := []leaf{
		{&b.ServerCert, &b.ServerKey, func() *x509.Certificate {
			return serverTemplate("kube-apiserver", dnsNames, ips)
		}},
		{&b.AdminCert, &b.AdminKey, func() *x509.Certificate {
			return clientTemplate(AdminUser, []string{AdminGroup})
		}},
		{&b.EtcdServerCert, &b.EtcdServerKey, func() *x509.Certificate {
			t := serverTemplate("etcd-server", []string{"localhost"},
				[]net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")})
			// etcd dials itself (gRPC gateway, peers) with its serving
			// certificate, so it must work as a client certificate too.
			t.ExtKeyUsage = append(t.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
			return t
		}},
		{&b.EtcdClientCert, &b.EtcdClientKey, func() *x509.Certificate {
			return clientTemplate("kube-apiserver-etcd-client", nil)
		}},
		{&b.KubeletClientCert, &b.KubeletClientKey, func() *x509.Certificate {
			return clientTemplate(KubeletClientUser, []string{AdminGroup})
		}},
	}
	for _, l := range leaves {
		want := l.tmpl()
		if leafValid(*l.cert, *l.key, ca, want) {
			continue
		}
		certPEM, keyPEM, err := issue(ca, caKey, want)
		if err != nil {
			return nil, err
		}
		if err := writePair(*l.cert, *l.key, certPEM, keyPEM); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func bundleIn(dir string) *Bundle {
	p := func(name string) string { return filepath.Join(dir, name) }
	return &Bundle{
		CACert: p("ca.crt"), CAKey: p("ca.key"),
		ServerCert: p("server.crt"), ServerKey: p("server.key"),
		AdminCert: p("admin.crt"), AdminKey: p("admin.key"),
		EtcdServerCert: p("etcd-server.crt"), EtcdServerKey: p("etcd-server.key"),
		EtcdClientCert: p("etcd-client.crt"), EtcdClientKey: p("etcd-client.key"),
		KubeletClientCert: p("kubelet-client.crt"), KubeletClientKey: p("kubelet-client.key"),
	}
}

// serverNames lists the subject alternative names of the API serving
// certificate: the fixed ones, the host name, and hosts.
func serverNames(hosts []string) ([]string, []net.IP) {
	dnsNames := []string{
		"localhost",
		"kubernetes",
		"kubernetes.default",
		"kubernetes.default.svc",
		"kubernetes.default.svc.cluster.local",
	}
	ips := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1"), net.ParseIP(ServiceIP)}
	if h, err := os.Hostname(); err == nil && h != "" {
		hosts = append([]string{h}, hosts...)
	}
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		switch ip := net.ParseIP(h); {
		case h == "":
		case ip != nil:
			if !slices.ContainsFunc(ips, ip.Equal) {
				ips = append(ips, ip)
			}
		default:
			h = strings.ToLower(h)
			if !slices.Contains(dnsNames, h) {
				dnsNames = append(dnsNames, h)
			}
		}
	}
	return dnsNames, ips
}

// CAPool returns a pool holding the bundle's CA certificate.
func (b *Bundle) CAPool() (*x509.CertPool, error) {
	data, err := os.ReadFile(b.CACert)
	if err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("pki: no certificate in %s", b.CACert)
	}
	return pool, nil
}

// IssueClient signs a new client certificate for user cn in groups with
// the bundle's CA and returns it and its key as PEM. Nothing is written to
// disk; tests use it to act as other users.
func IssueClient(b *Bundle, cn string, groups []string) (certPEM, keyPEM []byte, err error) {
	if cn == "" {
		return nil, nil, errors.New("pki: client certificate needs a common name")
	}
	ca, caKey, err := loadCA(b.CACert, b.CAKey)
	if err != nil {
		return nil, nil, err
	}
	return issue(ca, caKey, clientTemplate(cn, groups))
}

// IssueServing signs a new serving certificate for cn, valid for hosts (IP
// addresses or DNS names), and returns it and its key as PEM. Node agents
// get theirs this way when they join.
func IssueServing(b *Bundle, cn string, hosts []string) (certPEM, keyPEM []byte, err error) {
	if cn == "" {
		return nil, nil, errors.New("pki: serving certificate needs a common name")
	}
	ca, caKey, err := loadCA(b.CACert, b.CAKey)
	if err != nil {
		return nil, nil, err
	}
	var dnsNames []string
	var ips []net.IP
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
		} else if h != "" {
			dnsNames = append(dnsNames, strings.ToLower(h))
		}
	}
	return issue(ca, caKey, serverTemplate(cn, dnsNames, ips))
}

// loadCA reads the CA and its key and checks that they belong together and
// that the CA has at least renewBefore left.
func loadCA(certFile, keyFile string) (*x509.Certificate, crypto.Signer, error) {
	cert, err := readCert(certFile)
	if err != nil {
		return nil, nil, err
	}
	key, err := readKey(keyFile)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case !cert.IsCA:
		return nil, nil, fmt.Errorf("pki: %s is not a CA", certFile)
	case !samePublicKey(cert, key):
		return nil, nil, fmt.Errorf("pki: %s does not match %s", keyFile, certFile)
	case time.Until(cert.NotAfter) < renewBefore:
		return nil, nil, fmt.Errorf("pki: %s expires %s", certFile, cert.NotAfter)
	}
	return cert, key, nil
}

func createCA(certFile, keyFile string) (*x509.Certificate, crypto.Signer, error) {
	key, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	tmpl := caTemplate()
	certPEM, cert, err := sign(tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	if err := writePair(certFile, keyFile, certPEM, keyPEM); err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

// leafValid reports whether the pair on disk is signed by ca, matches its
// key, is far from expiry, and carries at least the names of want.
func leafValid(certFile, keyFile string, ca *x509.Certificate, want *x509.Certificate) bool {
	cert, err := readCert(certFile)
	if err != nil {
		return false
	}
	key, err := readKey(keyFile)
	if err != nil || !samePublicKey(cert, key) {
		return false
	}
	if time.Until(cert.NotAfter) < renewBefore || cert.CheckSignatureFrom(ca) != nil {
		return false
	}
	if cert.Subject.CommonName != want.Subject.CommonName ||
		!slices.Equal(cert.Subject.Organization, want.Subject.Organization) {
		return false
	}
	for _, u := range want.ExtKeyUsage {
		if !slices.Contains(cert.ExtKeyUsage, u) {
			return false
		}
	}
	for _, n := range want.DNSNames {
		if !slices.Contains(cert.DNSNames, n) {
			return false
		}
	}
	for _, ip := range want.IPAddresses {
		if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}
