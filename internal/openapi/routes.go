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
		method: "get", id: "get" + b.opGV + "APIResources", doc: "get available resources",
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

// resource adds the collection, item and watch paths of r and its
// subresources.
func (b *routeBuilder) resource(r registry.Resource) error {
	start := len(b.routes)
	obj, err := b.kind(r.Kind)
	if err != nil {
		return err
	}
	can := func(verb string) bool { return len(r.Verbs) == 0 || slices.Contains(r.Verbs, verb) }
	var list reflect.Type
	if can("list") || can("watch") {
		if list, err = b.kind(r.Kind.GroupVersion().WithKind(r.Kind.Kind + "List")); err != nil {
			return err
		}
	}
	k, scope := r.Kind.Kind, ""
	collection, item := b.prefix+"/"+r.Name, b.prefix+"/"+r.Name+"/{name}"
	watchCollection := b.prefix + "/watch/" + r.Name
	itemParams := []param{nameParam, pretty}
	collectionParams := []param{pretty}
	if r.Namespaced {
		scope = "Namespaced"
		collection = b.prefix + "/namespaces/{namespace}/" + r.Name
		item = collection + "/{name}"
		watchCollection = b.prefix + "/watch/namespaces/{namespace}/" + r.Name
		itemParams = []param{nameParam, namespaceParam, pretty}
		collectionParams = []param{namespaceParam, pretty}
		if can("list") {
			b.add(route{path: b.prefix + "/" + r.Name, params: append(slices.Clone(listParams), pretty), ops: []operation{{
				method: "get", id: "list" + b.opGV + k + "ForAllNamespaces", action: "list",
				doc: "list or watch objects of kind " + k, response: list, media: listMedia,
			}}})
		}
		if can("watch") {
			b.add(route{path: b.prefix + "/watch/" + r.Name, params: append(slices.Clone(listParams), pretty), ops: []operation{{
				method: "get", id: "watch" + b.opGV + k + "ListForAllNamespaces", action: "watchlist",
				doc:      "watch individual changes to a list of " + k + ". deprecated: use the 'watch' parameter with a list operation instead.",
				response: watchEventType, media: listMedia,
			}}})
		}
	}

	var ops []operation
	if can("list") {
		ops = append(ops, operation{method: "get", id: "list" + b.opGV + scope + k, action: "list",
			doc: "list or watch objects of kind " + k, params: listParams, response: list, media: listMedia})
	}
	if can("create") {
		ops = append(ops, operation{method: "post", id: "create" + b.opGV + scope + k, action: "post",
			doc: "create a " + k, params: writeParams, body: obj, response: obj, codes: []int{200, 201, 202}})
	}
	if can("deletecollection") {
		ops = append(ops, operation{method: "delete", id: "delete" + b.opGV + "Collection" + scope + k, action: "deletecollection",
			doc: "delete collection of " + k, params: deleteCollectionParams, body: deleteOptionsType, response: statusType})
	}
	b.add(route{path: collection, params: collectionParams, ops: ops})

	ops = nil
	if can("get") {
		ops = append(ops, operation{method: "get", id: "read" + b.opGV + scope + k, action: "get",
			doc: "read the specified " + k, response: obj})
	}
	if can("update") {
		ops = append(ops, operation{method: "put", id: "replace" + b.opGV + scope + k, action: "put",
			doc: "replace the specified " + k, params: writeParams, body: obj, response: obj, codes: []int{200, 201}})
	}
	if can("delete") {
		ops = append(ops, operation{method: "delete", id: "delete" + b.opGV + scope + k, action: "delete",
			doc: "delete a " + k, params: deleteParams, body: deleteOptionsType, response: statusType, codes: []int{200, 202}})
	}
	if can("patch") {
		ops = append(ops, operation{method: "patch", id: "patch" + b.opGV + scope + k, action: "patch",
			doc: "partially update the specified " + k, params: patchParams, body: patchType, patch: true,
			response: obj, codes: []int{200, 201}})
	}
	b.add(route{path: item, params: itemParams, ops: ops})

	if can("watch") {
		watchParams := append(slices.Clone(listParams), collectionParams...)
		b.add(route{path: watchCollection, params: watchParams, ops: []operation{{
			method: "get", id: "watch" + b.opGV + scope + k + "List", action: "watchlist",
			doc:      "watch individual changes to a list of " + k + ". deprecated: use the 'watch' parameter with a list operation instead.",
			response: watchEventType, media: listMedia,
		}}})
		b.add(route{path: watchCollection + "/{name}", params: append(slices.Clone(listParams), itemParams...), ops: []operation{{
			method: "get", id: "watch" + b.opGV + scope + k, action: "watch",
			doc:      "watch changes to an object of kind " + k + ". deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.",
			response: watchEventType, media: listMedia,
		}}})
	}

	for _, sub := range r.Subresources {
		if err := b.subresource(r, sub, item, itemParams, scope); err != nil {
			return err
		}
	}
	for i := start; i < len(b.routes); i++ {
		for j := range b.routes[i].ops {
			op := &b.routes[i].ops[j]
			if op.gvk.Empty() {
				op.gvk = r.Kind
			}
		}
	}
	return nil
}
