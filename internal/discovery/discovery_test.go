package discovery

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	apidiscoveryv2beta1 "k8s.io/api/apidiscovery/v2beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, body)
	}
	return v
}

func find(list []metav1.APIResource, name string) metav1.APIResource {
	for _, r := range list {
		if r.Name == name {
			return r
		}
	}
	return metav1.APIResource{}
}

func TestAPIVersions(t *testing.T) {
	d := New(testResources())
	rec := get(t, d, "/api", "application/json")
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /api: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	v := decode[metav1.APIVersions](t, rec.Body.Bytes())
	if v.Kind != "APIVersions" || !slices.Equal(v.Versions, []string{"v1"}) {
		t.Errorf("APIVersions = %+v", v)
	}
	want := []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: "example.com"}}
	if !slices.Equal(v.ServerAddressByClientCIDRs, want) {
		t.Errorf("serverAddressByClientCIDRs = %+v, want %+v", v.ServerAddressByClientCIDRs, want)
	}
}

func TestAPIGroupList(t *testing.T) {
	d := New(testResources())
	list := decode[metav1.APIGroupList](t, get(t, d, "/apis", "").Body.Bytes())
	if len(list.Groups) != 2 || list.Groups[0].Name != "apps" || list.Groups[1].Name != "autoscaling" {
		t.Fatalf("groups = %+v", list.Groups)
	}
	as := list.Groups[1]
	if as.PreferredVersion.GroupVersion != "autoscaling/v2" {
		t.Errorf("autoscaling preferred = %+v, want autoscaling/v2", as.PreferredVersion)
	}
	if len(as.Versions) != 2 || as.Versions[0].Version != "v2" || as.Versions[1].Version != "v1" {
		t.Errorf("autoscaling versions = %+v", as.Versions)
	}

	g := decode[metav1.APIGroup](t, get(t, d, "/apis/apps", "").Body.Bytes())
	if g.Kind != "APIGroup" || g.Name != "apps" || g.PreferredVersion.GroupVersion != "apps/v1" {
		t.Errorf("/apis/apps = %+v", g)
	}
}

func TestAPIResourceList(t *testing.T) {
	d := New(testResources())
	apps := decode[metav1.APIResourceList](t, get(t, d, "/apis/apps/v1", "").Body.Bytes())
	if apps.GroupVersion != "apps/v1" || apps.Kind != "APIResourceList" {
		t.Fatalf("apps/v1 = %+v", apps)
	}
	var names []string
	for _, r := range apps.APIResources {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{"deployments", "deployments/scale", "deployments/status"}) {
		t.Errorf("apps/v1 names = %v", names)
	}
	deploy := find(apps.APIResources, "deployments")
	if deploy.SingularName != "deployment" || !deploy.Namespaced || deploy.Kind != "Deployment" ||
		!slices.Equal(deploy.ShortNames, []string{"deploy"}) || !slices.Equal(deploy.Categories, []string{"all"}) ||
		deploy.StorageVersionHash == "" || deploy.Group != "" || deploy.Version != "" {
		t.Errorf("deployments = %+v", deploy)
	}
	if !slices.Equal(deploy.Verbs, allVerbs) {
		t.Errorf("deployments verbs = %v", deploy.Verbs)
	}
	scale := find(apps.APIResources, "deployments/scale")
	if scale.Group != "autoscaling" || scale.Version != "v1" || scale.Kind != "Scale" ||
		!slices.Equal(scale.Verbs, []string{"get", "patch", "update"}) || !scale.Namespaced {
		t.Errorf("deployments/scale = %+v", scale)
	}
	status := find(apps.APIResources, "deployments/status")
	if status.Kind != "Deployment" || status.Group != "" || !slices.Equal(status.Verbs, []string{"get", "patch", "update"}) {
		t.Errorf("deployments/status = %+v", status)
	}

	core := decode[metav1.APIResourceList](t, get(t, d, "/api/v1", "").Body.Bytes())
	tests := []struct {
		name, group, version, kind string
		verbs                      []string
	}{
		{"pods/binding", "", "", "Binding", []string{"create"}},
		{"pods/eviction", "policy", "v1", "Eviction", []string{"create"}},
		{"pods/log", "", "", "Pod", []string{"get"}},
		{"pods/exec", "", "", "PodExecOptions", []string{"create", "get"}},
		{"pods/attach", "", "", "PodAttachOptions", []string{"create", "get"}},
		{"pods/portforward", "", "", "PodPortForwardOptions", []string{"create", "get"}},
		{"pods/proxy", "", "", "PodProxyOptions", []string{"create", "delete", "get", "patch", "update"}},
		{"namespaces/finalize", "", "", "Namespace", []string{"update"}},
		{"namespaces", "", "", "Namespace", []string{"create", "delete", "get", "list", "patch", "update", "watch"}},
	}
	for _, tt := range tests {
		r := find(core.APIResources, tt.name)
		if r.Group != tt.group || r.Version != tt.version || r.Kind != tt.kind || !slices.Equal(r.Verbs, tt.verbs) {
			t.Errorf("%s = %+v, want %s/%s %s %v", tt.name, r, tt.group, tt.version, tt.kind, tt.verbs)
		}
	}
	if ns := find(core.APIResources, "namespaces"); ns.Namespaced {
		t.Errorf("namespaces should be cluster-scoped")
	}
}

func TestAggregated(t *testing.T) {
	d := New(testResources())
	for _, version := range []string{"v2", "v2beta1"} {
		accept := aggregatedMediaType(version) + ",application/json"
		rec := get(t, d, "/apis", accept)
		if ct := rec.Header().Get("Content-Type"); ct != aggregatedMediaType(version) {
			t.Fatalf("%s: Content-Type = %q", version, ct)
		}
		if rec.Header().Get("ETag") == "" {
			t.Errorf("%s: no ETag", version)
		}
		if version == "v2beta1" {
			list := decode[apidiscoveryv2beta1.APIGroupDiscoveryList](t, rec.Body.Bytes())
			if list.APIVersion != "apidiscovery.k8s.io/v2beta1" || len(list.Items) != 2 {
				t.Errorf("v2beta1 list = %+v", list)
			}
			continue
		}
		list := decode[apidiscoveryv2.APIGroupDiscoveryList](t, rec.Body.Bytes())
		if list.Kind != "APIGroupDiscoveryList" || list.APIVersion != "apidiscovery.k8s.io/v2" {
			t.Errorf("TypeMeta = %+v", list.TypeMeta)
		}
		if len(list.Items) != 2 || list.Items[0].Name != "apps" || list.Items[1].Name != "autoscaling" {
			t.Fatalf("items = %+v", list.Items)
		}
		if v := list.Items[1].Versions; len(v) != 2 || v[0].Version != "v2" {
			t.Errorf("autoscaling versions = %+v", v)
		}
		deploy := list.Items[0].Versions[0].Resources[0]
		if deploy.Resource != "deployments" || deploy.Scope != apidiscoveryv2.ScopeNamespace ||
			deploy.SingularResource != "deployment" || deploy.ResponseKind.Kind != "Deployment" ||
			!slices.Equal(deploy.ShortNames, []string{"deploy"}) || !slices.Equal(deploy.Categories, []string{"all"}) ||
			!slices.Equal(deploy.Verbs, allVerbs) {
			t.Errorf("deployments = %+v", deploy)
		}
		if len(deploy.Subresources) != 2 {
			t.Fatalf("subresources = %+v", deploy.Subresources)
		}
		scale := deploy.Subresources[0]
		if scale.Subresource != "scale" || *scale.ResponseKind != (metav1.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}) {
			t.Errorf("scale = %+v", scale)
		}
	}

	core := decode[apidiscoveryv2.APIGroupDiscoveryList](t, get(t, d, "/api", aggregatedMediaType("v2")).Body.Bytes())
	if len(core.Items) != 1 || core.Items[0].Name != "" || core.Items[0].Versions[0].Version != "v1" {
		t.Fatalf("/api aggregated = %+v", core)
	}
	var ns apidiscoveryv2.APIResourceDiscovery
	for _, r := range core.Items[0].Versions[0].Resources {
		if r.Resource == "namespaces" {
			ns = r
		}
	}
	if ns.Scope != apidiscoveryv2.ScopeCluster || len(ns.Subresources) != 2 || ns.Subresources[0].Subresource != "finalize" {
		t.Errorf("namespaces = %+v", ns)
	}
}

func TestNegotiation(t *testing.T) {
	d := New(testResources())
	tests := []struct {
		accept, want string
	}{
		{"", "application/json"},
		{"application/json", "application/json"},
		{"*/*", "application/json"},
		// client-go's header
		{aggregatedMediaType("v2") + "," + aggregatedMediaType("v2beta1") + ",application/json", aggregatedMediaType("v2")},
		{aggregatedMediaType("v2beta1") + ",application/json", aggregatedMediaType("v2beta1")},
		// q values win over order
		{aggregatedMediaType("v2") + ";q=0.5,application/json", "application/json"},
		// protobuf only: answered as JSON
		{"application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", aggregatedMediaType("v2")},
		// unknown versions fall through
		{"application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList,application/json", "application/json"},
	}
	for _, tt := range tests {
		rec := get(t, d, "/apis", tt.accept)
		if got := rec.Header().Get("Content-Type"); got != tt.want {
			t.Errorf("Accept %q: Content-Type %q, want %q", tt.accept, got, tt.want)
		}
	}
}

func TestETag(t *testing.T) {
	d := New(testResources())
	first := get(t, d, "/apis", aggregatedMediaType("v2"))
	etag := first.Header().Get("ETag")
	again := get(t, d, "/apis", aggregatedMediaType("v2"))
	if again.Header().Get("ETag") != etag {
		t.Fatalf("ETag changed: %q then %q", etag, again.Header().Get("ETag"))
	}
	if other := get(t, d, "/api", aggregatedMediaType("v2")).Header().Get("ETag"); other == etag {
		t.Errorf("/api and /apis share an ETag")
	}

	r := newRequest("/apis", aggregatedMediaType("v2"))
	r.Header.Set("If-None-Match", etag)
	rec := serve(d, r)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 || rec.Header().Get("ETag") != etag {
		t.Errorf("If-None-Match: %d, %d bytes, ETag %q", rec.Code, rec.Body.Len(), rec.Header().Get("ETag"))
	}
	r.Header.Set("If-None-Match", `"stale"`)
	if rec := serve(d, r); rec.Code != http.StatusOK {
		t.Errorf("stale If-None-Match: %d", rec.Code)
	}
}

func TestNotFound(t *testing.T) {
	d := New(testResources())
	for _, path := range []string{"/apis/nope/v1", "/apis/apps/v2", "/api/v2", "/apis/nope"} {
		rec := get(t, d, path, "")
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s: %d", path, rec.Code)
			continue
		}
		st := decode[metav1.Status](t, rec.Body.Bytes())
		if st.Kind != "Status" || st.Reason != metav1.StatusReasonNotFound || st.Code != 404 {
			t.Errorf("%s: %+v", path, st)
		}
	}
	r := newRequest("/apis", "")
	r.Method = http.MethodPost
	if rec := serve(d, r); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /apis: %d", rec.Code)
	}
}

func TestHandles(t *testing.T) {
	d := New(testResources())
	for path, want := range map[string]bool{
		"/api": true, "/api/": true, "/api/v1": true, "/api/v1/": true,
		"/apis": true, "/apis/apps": true, "/apis/apps/v1": true, "/apis/apps/v1/": true,
		"/apis/unknown/v9":          true,
		"/api/v1/pods":              false,
		"/api/v1/namespaces/x/pods": false,
		"/apis/apps/v1/deployments": false,
		"/":                         false,
		"/healthz":                  false,
		"/apiss":                    false,
		"/openapi/v3":               false,
	} {
		if got := d.Handles(path); got != want {
			t.Errorf("Handles(%q) = %v, want %v", path, got, want)
		}
	}
}
