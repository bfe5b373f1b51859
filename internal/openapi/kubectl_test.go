package openapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	openapiv3 "github.com/google/gnostic-models/openapiv3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/openapi3"
	"k8s.io/client-go/rest"
	"k8s.io/kube-openapi/pkg/util/proto"
	explainv2 "k8s.io/kubectl/pkg/explain/v2"
	kubectlopenapi "k8s.io/kubectl/pkg/util/openapi"

	skiffdiscovery "skiff.dev/internal/discovery"
)

var deploymentGVK = appsv1.SchemeGroupVersion.WithKind("Deployment")

// testServer serves discovery and OpenAPI, as the API server will, and
// returns a discovery client and a config for it.
func testServer(t *testing.T) (*discovery.DiscoveryClient, *rest.Config) {
	t.Helper()
	o := newTestOpenAPI(t)
	d := skiffdiscovery.New(testResources())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case o.Handles(r.URL.Path):
			o.ServeHTTP(w, r)
		case d.Handles(r.URL.Path):
			d.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	cfg := &rest.Config{Host: srv.URL}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dc, cfg
}

// TestOpenAPI3Root reads the documents with client-go's openapi3 root, as
// kubectl apply does, and finds the Deployment schema by its kind.
func TestOpenAPI3Root(t *testing.T) {
	dc, _ := testServer(t)
	root := openapi3.NewRoot(dc.OpenAPIV3())
	gvs, err := root.GroupVersions()
	if err != nil || len(gvs) != 6 {
		t.Fatalf("GroupVersions = %v, %v", gvs, err)
	}
	doc, err := root.GVSpec(appsv1.SchemeGroupVersion)
	if err != nil {
		t.Fatal(err)
	}
	var found string
	for name, s := range doc.Components.Schemas {
		var gvks []map[string]string
		if s.Extensions.GetObject(extGVK, &gvks) == nil {
			for _, g := range gvks {
				if g["group"] == "apps" && g["version"] == "v1" && g["kind"] == "Deployment" {
					found = name
				}
			}
		}
	}
	if found != "io.k8s.api.apps.v1.Deployment" {
		t.Errorf("schema for apps/v1 Deployment = %q", found)
	}
	if _, err := root.GVSpec(schema.GroupVersion{Group: "nope", Version: "v1"}); err == nil {
		t.Errorf("GVSpec of an unknown group-version succeeded")
	}
}

// TestQueryParamVerifier checks the check kubectl apply, create and edit
// make before relying on server-side field validation.
func TestQueryParamVerifier(t *testing.T) {
	dc, cfg := testServer(t)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	v3 := resource.NewQueryParamVerifierV3(dyn, dc.OpenAPIV3(), resource.QueryParamFieldValidation)
	for _, gvk := range []schema.GroupVersionKind{deploymentGVK, corev1.SchemeGroupVersion.WithKind("Pod"), corev1.SchemeGroupVersion.WithKind("ConfigMap")} {
		if err := v3.HasSupport(gvk); err != nil {
			t.Errorf("v3 HasSupport(%s): %v", gvk, err)
		}
	}
	// The OpenAPI v2 verifier, kubectl's fallback, reads /openapi/v2 as protobuf.
	v2 := resource.NewQueryParamVerifier(dyn, dc, resource.QueryParamFieldValidation)
	if err := v2.HasSupport(deploymentGVK); err != nil {
		t.Errorf("v2 HasSupport(Deployment): %v", err)
	}
}

// TestExplain runs kubectl explain's OpenAPI v3 code.
func TestExplain(t *testing.T) {
	dc, _ := testServer(t)
	gvr := appsv1.SchemeGroupVersion.WithResource("deployments")
	tests := []struct {
		path []string
		want []string
	}{
		{nil, []string{"GROUP:      apps", "KIND:       Deployment", "VERSION:    v1", "declarative updates", "spec\t<DeploymentSpec>", "metadata\t<ObjectMeta>"}},
		{[]string{"spec", "strategy"}, []string{"FIELD: strategy <DeploymentStrategy>", "replace existing pods", "rollingUpdate\t<RollingUpdateDeployment>"}},
		{[]string{"spec", "strategy", "rollingUpdate", "maxSurge"}, []string{"FIELD: maxSurge <IntOrString>"}},
		{[]string{"spec", "template", "spec", "containers"}, []string{"FIELD: containers <[]Container>", "name\t<string> -required-"}},
		{[]string{"metadata", "creationTimestamp"}, []string{"FIELD: creationTimestamp <string>"}},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if err := explainv2.PrintModelDescription(tt.path, &out, dc.OpenAPIV3(), gvr, false, "plaintext"); err != nil {
			t.Errorf("explain %v: %v", tt.path, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("explain %v: no %q in\n%s", tt.path, w, out.String())
			}
		}
	}
}

// TestProtoModels parses a document into kube-openapi's proto models,
// which kubectl builds its validation and field paths on.
func TestProtoModels(t *testing.T) {
	dc, _ := testServer(t)
	paths, err := dc.OpenAPIV3().Paths()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := paths["apis/apps/v1"].Schema("application/json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapiv3.ParseDocument(raw)
	if err != nil {
		t.Fatal(err)
	}
	models, err := proto.NewOpenAPIV3Data(doc)
	if err != nil {
		t.Fatal(err)
	}
	kind, ok := models.LookupModel("io.k8s.api.apps.v1.Deployment").(*proto.Kind)
	if !ok {
		t.Fatalf("Deployment model is %T", models.LookupModel("io.k8s.api.apps.v1.Deployment"))
	}
	if _, ok := kind.Fields["spec"]; !ok || kind.GetDescription() == "" {
		t.Errorf("Deployment model: fields %v, description %q", kind.Keys(), kind.GetDescription())
	}

	// The v2 document, as protobuf, through kubectl's parser.
	v2, err := dc.OpenAPISchema()
	if err != nil {
		t.Fatal(err)
	}
	resources, err := kubectlopenapi.NewOpenAPIData(v2)
	if err != nil {
		t.Fatal(err)
	}
	if resources.LookupResource(deploymentGVK) == nil {
		t.Errorf("v2 has no schema for %s", deploymentGVK)
	}
	if got := resources.GetConsumes(deploymentGVK, "PATCH"); len(got) != len(patchMedia) {
		t.Errorf("v2 PATCH consumes %v", got)
	}
}

// TestStrategicMergeFromSchema builds the three-way patch kubectl apply
// sends, from the v3 schema: containers merge by name, so changing one
// container's image patches only that container.
func TestStrategicMergeFromSchema(t *testing.T) {
	dc, _ := testServer(t)
	doc, err := openapi3.NewRoot(dc.OpenAPIV3()).GVSpec(appsv1.SchemeGroupVersion)
	if err != nil {
		t.Fatal(err)
	}
	meta := strategicpatch.PatchMetaFromOpenAPIV3{
		Schema:     doc.Components.Schemas["io.k8s.api.apps.v1.Deployment"],
		SchemaList: doc.Components.Schemas,
	}
	deploy := func(image string) []byte {
		d := appsv1.Deployment{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
			ObjectMeta: metav1.ObjectMeta{Name: "web"},
			Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
				{Name: "app", Image: image}, {Name: "sidecar", Image: "proxy:1"},
			}}}},
		}
		b, _ := json.Marshal(d)
		return b
	}
	patch, err := strategicpatch.CreateThreeWayMergePatch(deploy("app:1"), deploy("app:2"), deploy("app:1"), meta, false)
	if err != nil {
		t.Fatal(err)
	}
	// Merging by key puts the key in the patch and leaves the sidecar out;
	// an atomic list would replace the whole list.
	if s := string(patch); !strings.Contains(s, `"name":"app"`) || !strings.Contains(s, `"image":"app:2"`) || strings.Contains(s, "proxy:1") {
		t.Errorf("patch = %s", s)
	}
}
