package apiserver

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"skiff.dev/internal/agent/server"
	"skiff.dev/internal/agent/server/servertest"
	"skiff.dev/internal/discovery"
	"skiff.dev/internal/pki"
	"skiff.dev/internal/registry"
	"skiff.dev/internal/store"
	"skiff.dev/internal/version"
)

// cluster is an API server with one node whose agent runs the test
// runtime, all over HTTPS with the cluster's certificates.
type cluster struct {
	certs     *pki.Bundle
	api       *httptest.Server
	admin     *rest.Config
	client    *kubernetes.Clientset
	runtime   *servertest.Runtime
	agentPods *servertest.Pods
	logDir    string
}

// startCluster starts etcd, the API server and an agent on node1. authz
// nil means BootstrapAuthorizer.
func startCluster(t *testing.T, authz Authorizer) *cluster {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	dir := t.TempDir()
	certs, err := pki.Ensure(filepath.Join(dir, "tls"), nil)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := certs.CAPool()
	if err != nil {
		t.Fatal(err)
	}
	etcd, err := store.StartEmbedded(ctx, store.EmbeddedOptions{Dir: filepath.Join(dir, "etcd")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(etcd.Close)
	kubeletCert, err := tls.LoadX509KeyPair(certs.KubeletClientCert, certs.KubeletClientKey)
	if err != nil {
		t.Fatal(err)
	}
	// Discovery, for kubectl.
	resources := registry.All()
	api, err := New(Options{Store: store.New(etcd.Client()), Resources: resources, Authorizer: authz,
		Paths:   []PathHandler{discovery.New(resources)},
		Version: version.Info(), KubeletTLS: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{kubeletCert}}})
	if err != nil {
		t.Fatal(err)
	}
	go api.Run(ctx)
	if err := api.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	serving, err := tls.LoadX509KeyPair(certs.ServerCert, certs.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	apiSrv := httptest.NewUnstartedServer(api)
	apiSrv.TLS = &tls.Config{Certificates: []tls.Certificate{serving}, ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: pool}
	apiSrv.StartTLS()
	t.Cleanup(apiSrv.Close)

	c := &cluster{certs: certs, api: apiSrv, runtime: servertest.NewRuntime(t), agentPods: &servertest.Pods{}, logDir: t.TempDir()}
	agentPort := c.startAgent(t)
	c.admin = &rest.Config{Host: apiSrv.URL, TLSClientConfig: rest.TLSClientConfig{
		CAFile: certs.CACert, CertFile: certs.AdminCert, KeyFile: certs.AdminKey}}
	c.admin.QPS, c.admin.Burst = 1000, 2000
	c.client = kubernetes.NewForConfigOrDie(c.admin)
	if _, err := c.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c.addNode(t, "node1", agentPort)
	return c
}

// startAgent serves the agent API on loopback, for the API server's
// kubelet-client certificate only, and returns its port.
func (c *cluster) startAgent(t *testing.T) int {
	t.Helper()
	h, err := server.New(server.Options{Runtime: c.runtime, Pods: c.agentPods, Authorize: func(r *http.Request) error {
		if cn := r.TLS.PeerCertificates[0].Subject.CommonName; cn != pki.KubeletClientUser {
			return fmt.Errorf("agent: %s may not use the agent API", cn)
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := pki.IssueServing(c.certs, "node1", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	caPool, _ := c.certs.CAPool()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: caPool}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).Port
}

func (c *cluster) addNode(t *testing.T, name string, port int) {
	t.Helper()
	ctx := t.Context()
	node, err := c.client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "node1.invalid"},
		{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}}
	node.Status.DaemonEndpoints.KubeletEndpoint.Port = int32(port)
	if _, err := c.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// addPod creates a running pod on node (none: not scheduled) with the
// named containers, and tells the agent about those in agent.
func (c *cluster) addPod(t *testing.T, name, node string, annotations map[string]string, containers []string, agent map[string]servertest.Container) {
	t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Annotations: annotations},
		Spec: corev1.PodSpec{NodeName: node}}
	for _, ctr := range containers {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: ctr, Image: "busybox"})
	}
	pod, err := c.client.CoreV1().Pods("default").Create(t.Context(), pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Status.Phase = corev1.PodRunning
	if _, err := c.client.CoreV1().Pods("default").UpdateStatus(t.Context(), pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if agent != nil {
		c.agentPods.Add("default", name, "sandbox-"+name, agent)
		for _, ctr := range agent {
			if ctr.Waiting == "" {
				c.runtime.SetRunning(ctr.ID, true)
			}
		}
	}
}

// writeLog writes the CRI log lines (stream, text) of a container, a
// second apart, and returns its path.
func (c *cluster) writeLog(t *testing.T, name string, lines ...string) string {
	t.Helper()
	var b []byte
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := 0; i+1 < len(lines); i += 2 {
		b = fmt.Appendf(b, "%s %s F %s\n", t0.Add(time.Duration(i/2)*time.Second).Format(time.RFC3339Nano), lines[i], lines[i+1])
	}
	path := filepath.Join(c.logDir, name+".log")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// asUser is a client config for another user, with a certificate of the
// cluster CA.
func (c *cluster) asUser(t *testing.T, user string, groups ...string) *rest.Config {
	t.Helper()
	certPEM, keyPEM, err := pki.IssueClient(c.certs, user, groups)
	if err != nil {
		t.Fatal(err)
	}
	return &rest.Config{Host: c.api.URL, TLSClientConfig: rest.TLSClientConfig{CAFile: c.certs.CACert, CertData: certPEM, KeyData: keyPEM}}
}

// allowExcept is an authorizer that lets system:masters do everything
// and others everything but the listed verb/resource/subresource triples.
func allowExcept(denied ...string) Authorizer {
	return AuthorizerFunc(func(_ context.Context, a Attributes) (bool, string) {
		if slices.Contains(a.User.Groups, "system:masters") {
			return true, ""
		}
		key := a.Verb + " " + a.Resource + "/" + a.Subresource
		return !slices.Contains(denied, key), ""
	})
}
