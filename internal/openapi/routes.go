package openapi

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"skiff.dev/internal/registry"
)

// route is one URL path and the operations it answers.
type route struct {
	path   string
	params []param // common to every operation of the path
	ops    []operation
}

// operation is one HTTP method of a route.
type operation struct {
	method   string // lower case: get, put, post, delete, patch, head, options
	id       string
	tag      string // the group-version's tag: "core_v1", "apps_v1"
	doc      string
	action   string // x-kubernetes-action
	gvk      schema.GroupVersionKind
	params   []param
	body     reflect.Type // nil when the request has no body
	patch    bool         // the body is a patch, in any of the patch media types
	response reflect.Type // nil when the response is a plain string (logs, streams)
	codes    []int        // success codes
	media    []string     // response media types
}

// Media types of request and response bodies.
var (
	objectMedia = []string{"application/json", "application/yaml", "application/vnd.kubernetes.protobuf"}
	listMedia   = append(slices.Clone(objectMedia), "application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch")
	logMedia    = []string{"text/plain", "application/json", "application/yaml", "application/vnd.kubernetes.protobuf"}
	anyMedia    = []string{"*/*"}
	patchMedia  = []string{
		"application/apply-patch+yaml",
		"application/json-patch+json",
		"application/merge-patch+json",
		"application/strategic-merge-patch+json",
	}
)

// Meta types every group-version document uses.
var (
	statusType        = reflect.TypeFor[metav1.Status]()
	deleteOptionsType = reflect.TypeFor[metav1.DeleteOptions]()
	watchEventType    = reflect.TypeFor[metav1.WatchEvent]()
	patchType         = reflect.TypeFor[metav1.Patch]()
	resourceListType  = reflect.TypeFor[metav1.APIResourceList]()
)

// routeBuilder builds the routes of one group-version.
type routeBuilder struct {
	gv     schema.GroupVersion
	kinds  map[schema.GroupVersionKind]reflect.Type
	prefix string // "/api/v1", "/apis/apps/v1"
	opGV   string // "CoreV1", "AppsV1"
	routes []route
}

// buildRoutes lists the paths of one group-version's resources, the way
// upstream's API server lays them out.
func buildRoutes(gv schema.GroupVersion, resources []registry.Resource, kinds map[schema.GroupVersionKind]reflect.Type) ([]route, error) {
	b := &routeBuilder{gv: gv, kinds: kinds, prefix: "/" + gvPath(gv), opGV: opGroup(gv)}
	b.add(route{path: b.prefix + "/", ops: []operation{{
		method: "get", id: "get" + b.opGV + "APIResources", doc: "List the resources of the group-version.",
		response: resourceListType, codes: []int{200}, media: objectMedia,
	}}})
	for _, r := range resources {
		if err := b.resource(r); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(b.routes, func(a, b route) int { return strings.Compare(a.path, b.path) })
	for i := range b.routes {
		for j := range b.routes[i].ops {
			b.routes[i].ops[j].tag = tag(gv)
		}
	}
	return b.routes, nil
}

func (b *routeBuilder) add(r route) {
	if len(r.ops) > 0 {
		b.routes = append(b.routes, r)
	}
}

func (b *routeBuilder) kind(gvk schema.GroupVersionKind) (reflect.Type, error) {
	t, ok := b.kinds[gvk]
	if !ok {
		return nil, fmt.Errorf("openapi: no Go type is registered for %s", gvk)
	}
	return t, nil
}

// served is one resource as the routes see it: its types, URL paths and
// the parameters those paths take.
type served struct {
	registry.Resource
	obj, list              reflect.Type // the kind and its List kind (nil when not listable)
	kind, scope            string       // for operation ids: "Deployment", "Namespaced" or ""
	collection, item       string       // URL paths
	watch                  string       // URL path of the deprecated watch collection
	collParams, itemParams []param
}

func (s served) can(verb string) bool { return len(s.Verbs) == 0 || slices.Contains(s.Verbs, verb) }

// resource adds the paths of r and its subresources.
func (b *routeBuilder) resource(r registry.Resource) error {
	start := len(b.routes)
	s := served{Resource: r, kind: r.Kind.Kind}
	var err error
	if s.obj, err = b.kind(r.Kind); err != nil {
		return err
	}
	if s.can("list") || s.can("watch") {
		if s.list, err = b.kind(r.Kind.GroupVersion().WithKind(r.Kind.Kind + "List")); err != nil {
			return err
		}
	}
	s.collection, s.watch = b.prefix+"/"+r.Name, b.prefix+"/watch/"+r.Name
	s.collParams, s.itemParams = []param{pretty}, []param{nameParam, pretty}
	if r.Namespaced {
		s.scope = "Namespaced"
		s.collection = b.prefix + "/namespaces/{namespace}/" + r.Name
		s.watch = b.prefix + "/watch/namespaces/{namespace}/" + r.Name
		s.collParams, s.itemParams = []param{namespaceParam, pretty}, []param{nameParam, namespaceParam, pretty}
		b.allNamespaces(s)
	}
	s.item = s.collection + "/{name}"
	b.collectionRoute(s)
	b.itemRoute(s)
	b.watchRoutes(s)
	for _, sub := range r.Subresources {
		if err := b.subresource(s, sub); err != nil {
			return err
		}
	}
	for i := start; i < len(b.routes); i++ {
		for j := range b.routes[i].ops {
			if op := &b.routes[i].ops[j]; op.gvk.Empty() {
				op.gvk = r.Kind
			}
		}
	}
	return nil
}

// allNamespaces adds the paths that list and watch a namespaced resource
// across all namespaces.
func (b *routeBuilder) allNamespaces(s served) {
	params := append(slices.Clone(listParams), pretty)
	if s.can("list") {
		b.add(route{path: b.prefix + "/" + s.Name, params: params, ops: []operation{{
			method: "get", id: "list" + b.opGV + s.kind + "ForAllNamespaces", action: "list",
			doc: "List or watch the " + s.kind + " objects of all namespaces.", response: s.list, media: listMedia,
		}}})
	}
	if s.can("watch") {
		b.add(route{path: b.prefix + "/watch/" + s.Name, params: params, ops: []operation{{
			method: "get", id: "watch" + b.opGV + s.kind + "ListForAllNamespaces", action: "watchlist",
			doc: "Watch the " + s.kind + " objects of all namespaces. Deprecated: list with watch=true.", response: watchEventType, media: listMedia,
		}}})
	}
}

// collectionRoute adds the path of a collection: list, create and
// deletecollection.
func (b *routeBuilder) collectionRoute(s served) {
	var ops []operation
	if s.can("list") {
		ops = append(ops, operation{method: "get", id: "list" + b.opGV + s.scope + s.kind, action: "list",
			doc: "List or watch " + s.kind + " objects.", params: listParams, response: s.list, media: listMedia})
	}
	if s.can("create") {
		ops = append(ops, operation{method: "post", id: "create" + b.opGV + s.scope + s.kind, action: "post",
			doc: "Create a " + s.kind + ".", params: writeParams, body: s.obj, response: s.obj, codes: []int{200, 201, 202}})
	}
	if s.can("deletecollection") {
		ops = append(ops, operation{method: "delete", id: "delete" + b.opGV + "Collection" + s.scope + s.kind, action: "deletecollection",
			doc: "Delete the " + s.kind + " objects a selector picks.", params: deleteCollectionParams, body: deleteOptionsType, response: statusType})
	}
	b.add(route{path: s.collection, params: s.collParams, ops: ops})
}

// itemRoute adds the path of one object: get, update, delete and patch.
func (b *routeBuilder) itemRoute(s served) {
	var ops []operation
	if s.can("get") {
		ops = append(ops, operation{method: "get", id: "read" + b.opGV + s.scope + s.kind, action: "get",
			doc: "Read a " + s.kind + ".", response: s.obj})
	}
	if s.can("update") {
		ops = append(ops, operation{method: "put", id: "replace" + b.opGV + s.scope + s.kind, action: "put",
			doc: "Replace a " + s.kind + ".", params: writeParams, body: s.obj, response: s.obj, codes: []int{200, 201}})
	}
	if s.can("delete") {
		ops = append(ops, operation{method: "delete", id: "delete" + b.opGV + s.scope + s.kind, action: "delete",
			doc: "Delete a " + s.kind + ".", params: deleteParams, body: deleteOptionsType, response: statusType, codes: []int{200, 202}})
	}
	if s.can("patch") {
		ops = append(ops, operation{method: "patch", id: "patch" + b.opGV + s.scope + s.kind, action: "patch",
			doc: "Patch a " + s.kind + ".", params: patchParams, body: patchType, patch: true, response: s.obj, codes: []int{200, 201}})
	}
	b.add(route{path: s.item, params: s.itemParams, ops: ops})
}

// watchRoutes adds the deprecated /watch/ paths, which stream WatchEvents.
func (b *routeBuilder) watchRoutes(s served) {
	if !s.can("watch") {
		return
	}
	b.add(route{path: s.watch, params: append(slices.Clone(listParams), s.collParams...), ops: []operation{{
		method: "get", id: "watch" + b.opGV + s.scope + s.kind + "List", action: "watchlist",
		doc: "Watch " + s.kind + " objects. Deprecated: list with watch=true.", response: watchEventType, media: listMedia,
	}}})
	b.add(route{path: s.watch + "/{name}", params: append(slices.Clone(listParams), s.itemParams...), ops: []operation{{
		method: "get", id: "watch" + b.opGV + s.scope + s.kind, action: "watch",
		doc: "Watch one " + s.kind + ". Deprecated: list with watch=true and a metadata.name field selector.", response: watchEventType, media: listMedia,
	}}})
}
