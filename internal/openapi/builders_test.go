package openapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"skiff.dev/internal/registry"
)

// testResources is a small registry covering the shapes that matter:
// namespaced and cluster-scoped kinds, restricted verbs, every kind of
// subresource, a group served in two versions and a dotted group name.
func testResources() []registry.Resource {
	core := corev1.SchemeGroupVersion
	apps := appsv1.SchemeGroupVersion
	return []registry.Resource{
		{Kind: core.WithKind("ConfigMap"), Name: "configmaps", Singular: "configmap", Namespaced: true},
		{Kind: core.WithKind("Pod"), Name: "pods", Singular: "pod", Namespaced: true,
			Subresources: []string{"status", "binding", "eviction", "log", "exec", "attach", "portforward", "proxy", "ephemeralcontainers"}},
		{Kind: core.WithKind("Namespace"), Name: "namespaces", Singular: "namespace",
			Verbs: []string{"create", "delete", "get", "list", "patch", "update", "watch"}, Subresources: []string{"status", "finalize"}},
		{Kind: core.WithKind("Node"), Name: "nodes", Singular: "node", Subresources: []string{"status", "proxy"}},
		{Kind: core.WithKind("Service"), Name: "services", Singular: "service", Namespaced: true, Subresources: []string{"status", "proxy"}},
		{Kind: core.WithKind("ServiceAccount"), Name: "serviceaccounts", Singular: "serviceaccount", Namespaced: true, Subresources: []string{"token"}},
		{Kind: core.WithKind("Event"), Name: "events", Singular: "event", Namespaced: true},
		{Kind: core.WithKind("Binding"), Name: "bindings", Singular: "binding", Namespaced: true, Verbs: []string{"create"}},
		{Kind: apps.WithKind("Deployment"), Name: "deployments", Singular: "deployment", Namespaced: true, Subresources: []string{"status", "scale"}},
		{Kind: apps.WithKind("StatefulSet"), Name: "statefulsets", Singular: "statefulset", Namespaced: true, Subresources: []string{"status", "scale"}},
		{Kind: batchv1.SchemeGroupVersion.WithKind("Job"), Name: "jobs", Singular: "job", Namespaced: true, Subresources: []string{"status"}},
		{Kind: autoscalingv1.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"), Name: "horizontalpodautoscalers", Singular: "horizontalpodautoscaler", Namespaced: true, Subresources: []string{"status"}},
		{Kind: autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"), Name: "horizontalpodautoscalers", Singular: "horizontalpodautoscaler", Namespaced: true, Subresources: []string{"status"}},
		{Kind: rbacv1.SchemeGroupVersion.WithKind("ClusterRole"), Name: "clusterroles", Singular: "clusterrole"},
	}
}

func newTestOpenAPI(t *testing.T) *OpenAPI {
	t.Helper()
	o, err := New(testResources())
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func httptestRequest(path string) *http.Request {
	return httptest.NewRequest(http.MethodGet, path, nil)
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// fetch GETs path from h and returns the response and its body.
func fetch(t testing.TB, h http.Handler, path, accept string) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

func mustDecode(t testing.TB, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decode %T: %v\n%.500s", v, err, body)
	}
}
