package openapi

import (
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/kube-openapi/pkg/cached"
	"k8s.io/kube-openapi/pkg/handler3"
	"k8s.io/kube-openapi/pkg/spec3"

	"skiff.dev/internal/discovery"
	"skiff.dev/internal/registry"
)

// OpenAPI serves the OpenAPI documents of a fixed set of resources. It is
// safe for concurrent use.
type OpenAPI struct {
	routes map[string][]route // by group-version path, "api/v1", "apis/apps/v1"
	kinds  map[reflect.Type][]schema.GroupVersionKind
	v3     *handler3.OpenAPIService

	v3Once sync.Once
	v3Docs map[string]*spec3.OpenAPI

	v2 v2Handler
}

// New lays out the paths of resources and checks that each kind (and its
// List kind) has a Go type in client-go's scheme.
func New(resources []registry.Resource) (*OpenAPI, error) {
	byGV := map[schema.GroupVersion][]registry.Resource{}
	var gvs []schema.GroupVersion
	for _, r := range resources {
		gv := r.Kind.GroupVersion()
		if _, ok := byGV[gv]; !ok {
			gvs = append(gvs, gv)
		}
		byGV[gv] = append(byGV[gv], r)
	}
	types := maps.Clone(scheme.Scheme.AllKnownTypes())
	o := &OpenAPI{
		routes: map[string][]route{},
		kinds:  kindsByType(scheme.Scheme),
		v3:     handler3.NewOpenAPIService(),
	}
	for _, gv := range gvs {
		routes, err := buildRoutes(gv, byGV[gv], types)
		if err != nil {
			return nil, err
		}
		key := gvPath(gv)
		o.routes[key] = routes
		o.v3.UpdateGroupVersionLazy(key, cached.Once(cached.Func(func() (*spec3.OpenAPI, string, error) {
			return o.v3Documents()[key], "1", nil
		})))
	}
	o.v2.build = o.v2Document
	return o, nil
}

// v3Documents builds every group-version's document, once. They share one
// generator, so each Go type is reflected on once.
func (o *OpenAPI) v3Documents() map[string]*spec3.OpenAPI {
	o.v3Once.Do(func() {
		g := newGenerator(true, o.kinds, mergeSchema(scheme.Scheme))
		o.v3Docs = map[string]*spec3.OpenAPI{}
		for key, routes := range o.routes {
			o.v3Docs[key] = v3Document(routes, g)
		}
	})
	return o.v3Docs
}

// v2Document marshals the v2 document.
func (o *OpenAPI) v2Document() ([]byte, error) {
	var all []route
	for _, key := range slices.Sorted(maps.Keys(o.routes)) {
		all = append(all, o.routes[key]...)
	}
	g := newGenerator(false, o.kinds, mergeSchema(scheme.Scheme))
	return json.Marshal(v2Document(all, g))
}

// Handles reports whether path is one of the OpenAPI paths: /openapi/v2,
// /openapi/v3 and /openapi/v3/<group-version>.
func (o *OpenAPI) Handles(path string) bool {
	return path == "/openapi/v2" || path == "/openapi/v3" || strings.HasPrefix(path, "/openapi/v3/")
}

// ServeHTTP answers a GET or HEAD of an OpenAPI path.
func (o *OpenAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		discovery.WriteStatus(w, http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed,
			"the server does not allow this method on the requested resource")
		return
	}
	path := r.URL.Path
	switch {
	case path == "/openapi/v2":
		o.v2.ServeHTTP(w, r)
	case path == "/openapi/v3" || path == "/openapi/v3/":
		o.v3.HandleDiscovery(w, r)
	case strings.HasPrefix(path, "/openapi/v3/"):
		if _, ok := o.routes[strings.TrimPrefix(path, "/openapi/v3/")]; !ok {
			discovery.WriteStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource")
			return
		}
		o.v3.HandleGroupVersion(w, r)
	default:
		discovery.WriteStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource")
	}
}
