package test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/kubernetes"

	"skiff.dev/internal/kubeconfig"
	"skiff.dev/testenv"
)

// TestAuthentication: no client certificate is 401; another user's
// certificate is authenticated and then denied with upstream's 403
// message; health and version answer anyone.
func TestAuthentication(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	anon := anonymous(t, env)

	code, body := anon.do(http.MethodGet, "/api/v1/namespaces/default/configmaps", nil)
	if s := status(t, body); code != http.StatusUnauthorized || s.Reason != metav1.StatusReasonUnauthorized || s.Code != 401 {
		t.Errorf("no certificate: %d %s, want 401 Unauthorized", code, body)
	}

	bob, err := kubernetes.NewForConfig(userConfig(t, env, "bob"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = bob.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{})
	want := `configmaps is forbidden: User "bob" cannot list resource "configmaps" in API group "" in the namespace "default"`
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Errorf("bob lists: got %v, want %q", err, want)
	}
	_, err = bob.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	want = `nodes "n1" is forbidden: User "bob" cannot get resource "nodes" in API group "" at the cluster scope`
	if !apierrors.IsForbidden(err) || err.Error() != want {
		t.Errorf("bob gets a node: got %v, want %q", err, want)
	}

	for _, path := range []string{"/healthz", "/livez", "/readyz", "/version"} {
		code, body := anon.do(http.MethodGet, path, nil)
		if code != http.StatusOK {
			t.Errorf("%s without credentials: %d %s", path, code, body)
		}
		if path == "/version" {
			var v version.Info
			if err := json.Unmarshal(body, &v); err != nil || !strings.HasPrefix(v.GitVersion, "v1.34.") || v.Major != "1" || v.Minor != "34" {
				t.Errorf("/version: %s (%v), want v1.34.x", body, err)
			}
		}
	}
}

// TestMetrics: /metrics carries upstream's request counter and latency
// histogram, labelled by verb and resource.
func TestMetrics(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	cs := clientset(t, env)
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, configMap("m", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	code, body := raw(t, env).do(http.MethodGet, "/metrics", nil)
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	for _, series := range []string{"apiserver_request_total", "apiserver_request_duration_seconds_bucket"} {
		re := regexp.MustCompile(`(?m)^` + series + `\{[^}]*resource="configmaps"[^}]*\} `)
		lines := re.FindAllString(string(body), -1)
		if len(lines) == 0 {
			t.Errorf("no %s series for configmaps", series)
			continue
		}
		verbs := map[string]bool{}
		for _, l := range lines {
			if m := regexp.MustCompile(`verb="([^"]*)"`).FindStringSubmatch(l); m != nil {
				verbs[m[1]] = true
			}
		}
		if !verbs["LIST"] || !verbs["POST"] { // upstream's reported verbs
			t.Errorf("%s verbs for configmaps: %v, want LIST and POST", series, verbs)
		}
	}
	if code, _ := anonymous(t, env).do(http.MethodGet, "/metrics", nil); code != http.StatusUnauthorized {
		t.Errorf("/metrics without credentials: %d, want 401", code)
	}
}

// TestAccessReview: a SelfSubjectAccessReview answers for the caller;
// kubectl auth can-i says yes for the admin and no for bob.
func TestAccessReview(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	review := func(cs kubernetes.Interface) (*authorizationv1.SelfSubjectAccessReview, error) {
		return cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
			Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: "default", Verb: "list", Resource: "configmaps"}}}, metav1.CreateOptions{})
	}
	r, err := review(clientset(t, env))
	if err != nil || !r.Status.Allowed {
		t.Errorf("admin review: %+v %v, want allowed", r, err)
	}
	bob, err := kubernetes.NewForConfig(userConfig(t, env, "bob"))
	if err != nil {
		t.Fatal(err)
	}
	r, err = review(bob)
	if err != nil || r.Status.Allowed {
		t.Errorf("bob's review: %+v %v, want not allowed", r, err)
	}

	k := newKubectl(t, env)
	if out := strings.TrimSpace(k.run("auth", "can-i", "list", "configmaps")); out != "yes" {
		t.Errorf("admin can-i: %q, want yes", out)
	}
	bobKube := bobKubeconfig(t, env)
	out, err := (&kubectl{t: t, kubeconfig: bobKube}).try("auth", "can-i", "list", "configmaps")
	if err == nil || strings.TrimSpace(out) != "no" {
		t.Errorf("bob can-i: %q (%v), want no and a non-zero exit", out, err)
	}
}

// bobKubeconfig writes a kubeconfig for user bob.
func bobKubeconfig(t *testing.T, env *testenv.Env) string {
	t.Helper()
	cfg := userConfig(t, env, "bob")
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "bob.crt"), filepath.Join(dir, "bob.key")
	if err := os.WriteFile(cert, cfg.CertData, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, cfg.KeyData, 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "bob.kubeconfig")
	if err := kubeconfig.Write(path, env.Server.URL(), env.Server.Certs().CACert, cert, key); err != nil {
		t.Fatal(err)
	}
	return path
}
