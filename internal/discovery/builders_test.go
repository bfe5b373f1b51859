package discovery

import (
	"net/http"
	"net/http/httptest"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"

	"skiff.dev/internal/registry"
)

// testResources is a small registry: core configmaps, pods and
// namespaces, apps deployments, and autoscaling in two versions.
func testResources() []registry.Resource {
	core := corev1.SchemeGroupVersion
	return []registry.Resource{
		{Kind: core.WithKind("ConfigMap"), Name: "configmaps", Singular: "configmap", ShortNames: []string{"cm"}, Namespaced: true},
		{Kind: core.WithKind("Pod"), Name: "pods", Singular: "pod", ShortNames: []string{"po"}, Categories: []string{"all"}, Namespaced: true,
			Subresources: []string{"status", "binding", "eviction", "log", "exec", "attach", "portforward", "proxy"}},
		{Kind: core.WithKind("Namespace"), Name: "namespaces", Singular: "namespace", ShortNames: []string{"ns"},
			Verbs: []string{"watch", "list", "get", "create", "delete", "patch", "update"}, Subresources: []string{"status", "finalize"}},
		{Kind: appsv1.SchemeGroupVersion.WithKind("Deployment"), Name: "deployments", Singular: "deployment",
			ShortNames: []string{"deploy"}, Categories: []string{"all"}, Namespaced: true, Subresources: []string{"status", "scale"}},
		{Kind: autoscalingv1.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"), Name: "horizontalpodautoscalers",
			Singular: "horizontalpodautoscaler", ShortNames: []string{"hpa"}, Categories: []string{"all"}, Namespaced: true,
			Subresources: []string{"status"}},
		{Kind: autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"), Name: "horizontalpodautoscalers",
			Singular: "horizontalpodautoscaler", ShortNames: []string{"hpa"}, Categories: []string{"all"}, Namespaced: true,
			Subresources: []string{"status"}},
	}
}

func newRequest(path, accept string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return req
}

func serve(d *Discovery, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, r)
	return rec
}

// get asks d for path with the given Accept header (if any).
func get(t *testing.T, d *Discovery, path, accept string) *httptest.ResponseRecorder {
	t.Helper()
	return serve(d, newRequest(path, accept))
}
