package openapi

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	openapiv3 "github.com/google/gnostic-models/openapiv3"
	"google.golang.org/protobuf/proto"
	"k8s.io/kube-openapi/pkg/handler3"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// v3Doc fetches and parses the v3 document of a group-version path.
func v3Doc(t *testing.T, o *OpenAPI, gv string) *spec3.OpenAPI {
	t.Helper()
	res, body := fetch(t, o, "/openapi/v3/"+gv, "application/json")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s: %d %q", gv, res.StatusCode, res.Header.Get("Content-Type"))
	}
	doc := &spec3.OpenAPI{}
	mustDecode(t, body, doc)
	return doc
}

func TestIndex(t *testing.T) {
	o := newTestOpenAPI(t)
	res, body := fetch(t, o, "/openapi/v3", "")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" || res.Header.Get("Etag") == "" {
		t.Fatalf("GET /openapi/v3: %d %v", res.StatusCode, res.Header)
	}
	var index handler3.OpenAPIV3Discovery
	mustDecode(t, body, &index)
	var keys []string
	for k, v := range index.Paths {
		keys = append(keys, k)
		if !strings.HasPrefix(v.ServerRelativeURL, "/openapi/v3/"+k+"?hash=") {
			t.Errorf("%s: serverRelativeURL %q", k, v.ServerRelativeURL)
		}
	}
	slices.Sort(keys)
	want := []string{"api/v1", "apis/apps/v1", "apis/autoscaling/v1", "apis/autoscaling/v2", "apis/batch/v1", "apis/rbac.authorization.k8s.io/v1"}
	if !slices.Equal(keys, want) {
		t.Errorf("index = %v, want %v", keys, want)
	}

	// With the hash of the index, the document may be cached for good.
	res, _ = fetch(t, o, index.Paths["apis/apps/v1"].ServerRelativeURL, "application/json")
	if res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "public, immutable" || res.Header.Get("Etag") == "" {
		t.Errorf("hashed GET: %d %v", res.StatusCode, res.Header)
	}
	etag := res.Header.Get("Etag")
	// A stale hash redirects to the current one.
	res, _ = fetch(t, o, "/openapi/v3/apis/apps/v1?hash=OLD", "application/json")
	if res.StatusCode != http.StatusMovedPermanently || !strings.Contains(res.Header.Get("Location"), "hash=") {
		t.Errorf("stale hash: %d %v", res.StatusCode, res.Header)
	}
	// Clients that ask for protobuf get gnostic's encoding of the document.
	res, body = fetch(t, o, "/openapi/v3/apis/apps/v1", "application/com.github.proto-openapi.spec.v3@v1.0+protobuf")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/com.github.proto-openapi.spec.v3.v1.0+protobuf" {
		t.Errorf("protobuf GET: %d %v", res.StatusCode, res.Header)
	} else if doc := new(openapiv3.Document); proto.Unmarshal(body, doc) != nil || doc.Components.Schemas == nil {
		t.Errorf("protobuf body does not decode")
	}
	// If-None-Match with the ETag: 304.
	req := httptestRequest("/openapi/v3/apis/apps/v1")
	req.Header.Set("If-None-Match", etag)
	if rec := serve(o, req); rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", rec.Code)
	}
}

func TestNotFound(t *testing.T) {
	o := newTestOpenAPI(t)
	for _, path := range []string{"/openapi/v3/apis/nope/v1", "/openapi/v3/apis/apps/v2", "/openapi/v4"} {
		res, body := fetch(t, o, path, "")
		if res.StatusCode != http.StatusNotFound || !strings.Contains(string(body), `"reason":"NotFound"`) {
			t.Errorf("%s: %d %s", path, res.StatusCode, body)
		}
	}
}

func TestHandles(t *testing.T) {
	o := newTestOpenAPI(t)
	for path, want := range map[string]bool{
		"/openapi/v2": true, "/openapi/v3": true, "/openapi/v3/apis/apps/v1": true, "/openapi/v3/api/v1": true,
		"/openapi": false, "/openapi/v2/x": false, "/api/v1": false, "/apis": false,
	} {
		if got := o.Handles(path); got != want {
			t.Errorf("Handles(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestAppsDocument(t *testing.T) {
	o := newTestOpenAPI(t)
	doc := v3Doc(t, o, "apis/apps/v1")
	if doc.Version != "3.0.0" || doc.Info == nil || doc.Info.Title != "Kubernetes" {
		t.Errorf("openapi %q, info %+v", doc.Version, doc.Info)
	}
	schemas := doc.Components.Schemas
	for _, name := range []string{
		"io.k8s.api.apps.v1.Deployment", "io.k8s.api.apps.v1.DeploymentList", "io.k8s.api.autoscaling.v1.Scale",
		"io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions", "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
		"io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta", "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent",
		"io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
		"io.k8s.api.core.v1.PodSpec", "io.k8s.api.core.v1.Container",
	} {
		if schemas[name] == nil {
			t.Errorf("missing schema %s", name)
		}
	}
	for name := range schemas {
		if strings.HasPrefix(name, "io.k8s.api.batch.") || strings.HasPrefix(name, "io.k8s.api.rbac.") {
			t.Errorf("apps/v1 carries %s, which it does not use", name)
		}
	}

	deploy := schemas["io.k8s.api.apps.v1.Deployment"]
	var gvks []map[string]string
	if err := deploy.Extensions.GetObject(extGVK, &gvks); err != nil || len(gvks) != 1 ||
		gvks[0]["group"] != "apps" || gvks[0]["version"] != "v1" || gvks[0]["kind"] != "Deployment" {
		t.Errorf("Deployment %s = %v (%v)", extGVK, gvks, err)
	}
	if !strings.Contains(deploy.Description, "declarative updates") {
		t.Errorf("Deployment description = %q", deploy.Description)
	}
	meta := deploy.Properties["metadata"]
	if len(meta.AllOf) != 1 || meta.AllOf[0].Ref.String() != "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" || meta.Description == "" {
		t.Errorf("Deployment.metadata = %+v", meta)
	}

	spec := schemas["io.k8s.api.apps.v1.DeploymentSpec"]
	if strategy := spec.Properties["strategy"]; !strings.Contains(strategy.Description, "strategy to use to replace existing pods") ||
		strategy.Extensions[extPatchStrategy] != "retainKeys" {
		t.Errorf("DeploymentSpec.strategy = %+v", strategy)
	}
	if !slices.Equal(spec.Required, []string{"selector", "template"}) {
		t.Errorf("DeploymentSpec required = %v", spec.Required)
	}
	if r := spec.Properties["replicas"]; !slices.Equal(r.Type, spec3Type("integer")) || r.Format != "int32" {
		t.Errorf("DeploymentSpec.replicas = %+v", r)
	}

	containers := schemas["io.k8s.api.core.v1.PodSpec"].Properties["containers"]
	if containers.Extensions[extPatchMergeKey] != "name" || containers.Extensions[extPatchStrategy] != "merge" ||
		containers.Extensions[extListType] != "map" {
		t.Errorf("PodSpec.containers extensions = %v", containers.Extensions)
	}
	if containers.Items == nil || len(containers.Items.Schema.AllOf) != 1 ||
		containers.Items.Schema.AllOf[0].Ref.String() != "#/components/schemas/io.k8s.api.core.v1.Container" {
		t.Errorf("PodSpec.containers items = %+v", containers.Items)
	}
}

func spec3Type(t string) spec.StringOrArray { return spec.StringOrArray{t} }

func TestSpecialSchemas(t *testing.T) {
	o := newTestOpenAPI(t)
	s := v3Doc(t, o, "apis/apps/v1").Components.Schemas
	const meta = "io.k8s.apimachinery.pkg.apis.meta.v1."
	if q := s["io.k8s.apimachinery.pkg.api.resource.Quantity"]; len(q.OneOf) != 2 || q.Description == "" {
		t.Errorf("Quantity = %+v", q)
	}
	ios := s["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]
	if ios.Format != "int-or-string" || ios.Extensions[extIntOrString] != true || len(ios.OneOf) != 2 {
		t.Errorf("IntOrString = %+v", ios)
	}
	if mt := v3Doc(t, o, "api/v1").Components.Schemas[meta+"MicroTime"]; mt == nil || mt.Format != "date-time" || mt.Description == "" {
		t.Errorf("MicroTime = %+v", mt)
	}
	if tm := s[meta+"Time"]; !slices.Equal(tm.Type, spec3Type("string")) || tm.Format != "date-time" || tm.Description == "" {
		t.Errorf("Time = %+v", tm)
	}
	for _, name := range []string{meta + "FieldsV1", "io.k8s.apimachinery.pkg.runtime.RawExtension"} {
		if x := s[name]; !slices.Equal(x.Type, spec3Type("object")) || len(x.Properties) != 0 {
			t.Errorf("%s = %+v", name, x)
		}
	}
	labels := s[meta+"ObjectMeta"].Properties["labels"]
	if labels.AdditionalProperties == nil || !slices.Equal(labels.AdditionalProperties.Schema.Type, spec3Type("string")) {
		t.Errorf("ObjectMeta.labels = %+v", labels)
	}
	if f := s[meta+"ObjectMeta"].Properties["finalizers"]; f.Extensions[extListType] != "set" {
		t.Errorf("ObjectMeta.finalizers = %+v", f.Extensions)
	}
	if ls := s[meta+"LabelSelector"]; ls.Extensions[extMapType] != "atomic" {
		t.Errorf("LabelSelector extensions = %v", ls.Extensions)
	}
	// Embedded structs are inlined: TypeMeta's fields are the object's.
	if d := s["io.k8s.api.apps.v1.Deployment"]; d.Properties["apiVersion"].Description == "" || d.Properties["TypeMeta"].Type != nil {
		t.Errorf("Deployment properties = %v", d.Properties)
	}
	// []byte is base64 text.
	core := v3Doc(t, o, "api/v1").Components.Schemas
	if b := core["io.k8s.api.core.v1.ConfigMap"].Properties["binaryData"]; b.AdditionalProperties.Schema.Format != "byte" {
		t.Errorf("ConfigMap.binaryData = %+v", b.AdditionalProperties.Schema)
	}
}

func TestOperations(t *testing.T) {
	o := newTestOpenAPI(t)
	doc := v3Doc(t, o, "apis/apps/v1")
	item := doc.Paths.Paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
	if item == nil {
		t.Fatal("no item path for deployments")
	}
	patch := item.Patch
	if patch.OperationId != "patchAppsV1NamespacedDeployment" || patch.Extensions["x-kubernetes-action"] != "patch" {
		t.Errorf("patch = %s %v", patch.OperationId, patch.Extensions)
	}
	if !slices.Equal(paramNames(patch.Parameters), []string{"dryRun", "fieldManager", "fieldValidation", "force"}) {
		t.Errorf("patch parameters = %v", paramNames(patch.Parameters))
	}
	var media []string
	for m := range patch.RequestBody.Content {
		media = append(media, m)
	}
	slices.Sort(media)
	if !slices.Equal(media, patchMedia) {
		t.Errorf("patch media = %v", media)
	}
	if !slices.Equal(paramNames(item.Put.Parameters), []string{"dryRun", "fieldManager", "fieldValidation"}) {
		t.Errorf("put parameters = %v", paramNames(item.Put.Parameters))
	}
	coll := doc.Paths.Paths["/apis/apps/v1/namespaces/{namespace}/deployments"]
	if !slices.Equal(paramNames(coll.Post.Parameters), []string{"dryRun", "fieldManager", "fieldValidation"}) ||
		coll.Get.OperationId != "listAppsV1NamespacedDeployment" || coll.Delete.Extensions["x-kubernetes-action"] != "deletecollection" {
		t.Errorf("collection = post %v, get %s, delete %v", paramNames(coll.Post.Parameters), coll.Get.OperationId, coll.Delete.Extensions)
	}
	scale := doc.Paths.Paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]
	var gvk map[string]string
	if err := scale.Patch.Extensions.GetObject(extGVK, &gvk); err != nil || gvk["group"] != "autoscaling" || gvk["kind"] != "Scale" {
		t.Errorf("scale patch gvk = %v, %v", gvk, err)
	}
	if ref := scale.Get.Responses.StatusCodeResponses[200].Content["application/json"].Schema.Ref.String(); ref != "#/components/schemas/io.k8s.api.autoscaling.v1.Scale" {
		t.Errorf("scale response = %s", ref)
	}

	core := v3Doc(t, o, "api/v1").Paths.Paths
	for path, want := range map[string][]string{
		"/api/v1/namespaces/{namespace}/pods/{name}/exec":             {"get:connectCoreV1GetNamespacedPodExec:connect", "post:connectCoreV1PostNamespacedPodExec:connect"},
		"/api/v1/namespaces/{namespace}/pods/{name}/log":              {"get:readCoreV1NamespacedPodLog:get"},
		"/api/v1/namespaces/{namespace}/pods/{name}/eviction":         {"post:createCoreV1NamespacedPodEviction:post"},
		"/api/v1/namespaces/{namespace}/pods/{name}/binding":          {"post:createCoreV1NamespacedPodBinding:post"},
		"/api/v1/namespaces/{name}/finalize":                          {"put:replaceCoreV1NamespaceFinalize:put"},
		"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token": {"post:createCoreV1NamespacedServiceAccountToken:post"},
		"/api/v1/nodes/{name}/proxy/{path}":                           {"delete:connectCoreV1DeleteNodeProxyWithPath:connect", "get:connectCoreV1GetNodeProxyWithPath:connect"},
		"/api/v1/namespaces/{namespace}/bindings":                     {"post:createCoreV1NamespacedBinding:post"},
		"/api/v1/pods": {"get:listCoreV1PodForAllNamespaces:list"},
		"/api/v1/watch/namespaces/{namespace}/pods/{name}": {"get:watchCoreV1NamespacedPod:watch"},
	} {
		p := core[path]
		if p == nil {
			t.Errorf("missing path %s", path)
			continue
		}
		got := map[string]*spec3.Operation{"get": p.Get, "put": p.Put, "post": p.Post, "delete": p.Delete, "patch": p.Patch}
		for _, w := range want {
			parts := strings.Split(w, ":")
			op := got[parts[0]]
			if op == nil || op.OperationId != parts[1] || op.Extensions["x-kubernetes-action"] != parts[2] {
				t.Errorf("%s %s = %+v", path, parts[0], op)
			}
		}
	}
	if core["/api/v1/namespaces"].Delete != nil {
		t.Errorf("namespaces has no deletecollection verb but has the operation")
	}
	if core["/api/v1/namespaces/{namespace}/bindings/{name}"] != nil {
		t.Errorf("bindings only allow create, but have an item path")
	}
}

func paramNames(params []*spec3.Parameter) []string {
	var out []string
	for _, p := range params {
		out = append(out, p.Name)
	}
	return out
}

func TestV2(t *testing.T) {
	o := newTestOpenAPI(t)
	res, body := fetch(t, o, "/openapi/v2", "application/json")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi/v2: %d %v", res.StatusCode, res.Header)
	}
	var doc spec.Swagger
	mustDecode(t, body, &doc)
	if doc.Swagger != "2.0" {
		t.Errorf("swagger = %q", doc.Swagger)
	}
	meta := doc.Definitions["io.k8s.api.apps.v1.Deployment"].Properties["metadata"]
	if meta.Ref.String() != "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" || meta.Description == "" {
		t.Errorf("v2 Deployment.metadata = %+v", meta)
	}
	if _, ok := doc.Definitions["io.k8s.api.rbac.v1.ClusterRole"]; !ok {
		t.Errorf("v2 lacks the rbac definitions")
	}
	patch := doc.Paths.Paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"].Patch
	if patch == nil || !slices.Equal(patch.Consumes, patchMedia) {
		t.Errorf("v2 patch = %+v", patch)
	}

	if res, _ := fetch(t, o, "/openapi/v2", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"); res.StatusCode != http.StatusOK ||
		res.Header.Get("Content-Type") != "application/com.github.proto-openapi.spec.v2.v1.0+protobuf" {
		t.Errorf("v2 protobuf: %d %v", res.StatusCode, res.Header)
	}
	if res, _ := fetch(t, o, "/openapi/v2", "text/html"); res.StatusCode != http.StatusNotAcceptable {
		t.Errorf("v2 text/html: %d", res.StatusCode)
	}
}
