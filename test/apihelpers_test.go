package test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/pki"
	"skiff.dev/testenv"
)

// newPod is the smallest valid pod: one container with a name and an image.
func newPod(name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
}

// newDeployment selects and templates pods labelled app=name.
func newDeployment(name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}},
		}}
}

func newNamespace(t *testing.T, ctx context.Context, env *testenv.Env, name string) {
	t.Helper()
	_, err := clientset(t, env).CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// rawAPI sends hand-made requests to the API server.
type rawAPI struct {
	t    *testing.T
	base string
	c    *http.Client
}

// raw is a raw client with cfg's credentials (the admin's by default).
func raw(t *testing.T, env *testenv.Env, cfg ...*rest.Config) *rawAPI {
	t.Helper()
	c := env.Config
	if len(cfg) > 0 {
		c = cfg[0]
	}
	hc, err := rest.HTTPClientFor(c)
	if err != nil {
		t.Fatal(err)
	}
	return &rawAPI{t: t, base: env.Config.Host, c: hc}
}

// anonymous is a raw client that trusts the server but presents no
// client certificate.
func anonymous(t *testing.T, env *testenv.Env) *rawAPI {
	t.Helper()
	cfg := rest.AnonymousClientConfig(env.Config)
	return raw(t, env, cfg)
}

// userConfig is a client configuration for another user, with a client
// certificate signed by the cluster CA.
func userConfig(t *testing.T, env *testenv.Env, user string, groups ...string) *rest.Config {
	t.Helper()
	certPEM, keyPEM, err := pki.IssueClient(env.Server.Certs(), user, groups)
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(env.Config)
	cfg.CertData, cfg.KeyData = certPEM, keyPEM
	return cfg
}

// do sends one request; header is alternating names and values.
func (a *rawAPI) do(method, path string, body []byte, header ...string) (int, []byte) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+path, bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := a.c.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp.StatusCode, out
}

// status decodes a metav1.Status answer.
func status(t *testing.T, body []byte) metav1.Status {
	t.Helper()
	var s metav1.Status
	if err := json.Unmarshal(body, &s); err != nil || s.Kind != "Status" {
		t.Fatalf("not a Status (%v): %s", err, body)
	}
	return s
}

// causes returns an API error's causes, "field: type".
func causes(err error) []string {
	var out []string
	if se, ok := err.(apierrors.APIStatus); ok && se.Status().Details != nil {
		for _, c := range se.Status().Details.Causes {
			out = append(out, c.Field+": "+string(c.Type))
		}
	}
	return out
}
