package openapi

import (
	"slices"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"skiff.dev/internal/discovery"
)

// subresource adds the path of one subresource of s.
func (b *routeBuilder) subresource(s served, sub string) error {
	kind, verbs := discovery.Subresource(s.Resource, sub)
	path, itemParams, scope := s.item+"/"+sub, s.itemParams, s.scope
	name := s.kind + title(sub)
	switch sub {
	case "exec", "attach", "portforward":
		extra := map[string][]param{"exec": execParams, "attach": attachParam, "portforward": portParams}[sub]
		doc := "Connect to the " + sub + " stream of a " + s.kind + "."
		b.add(route{path: path, params: append(slices.Clone(itemParams), extra...), ops: b.connect(kind, []string{"get", "post"}, scope, name, doc)})
		return nil
	case "proxy":
		methods := []string{"get", "put", "post", "delete", "patch", "head", "options"}
		doc := "Proxy a request to a " + s.kind + "."
		b.add(route{path: path, params: append(slices.Clone(itemParams), proxyPath), ops: b.connect(kind, methods, scope, name, doc)})
		withPath := append(slices.Clone(itemParams), pathParam("path", "The path to proxy to."))
		b.add(route{path: path + "/{path}", params: withPath, ops: b.connect(kind, methods, scope, name+"WithPath", doc)})
		return nil
	case "log":
		b.add(route{path: path, params: append(slices.Clone(itemParams), logParams...), ops: []operation{{
			method: "get", id: "read" + b.opGV + scope + name, action: "get", gvk: kind,
			doc: "Read the log of a " + s.kind + ".", media: logMedia,
		}}})
		return nil
	}

	obj, err := b.kind(kind)
	if err != nil {
		return err
	}
	var ops []operation
	for _, verb := range verbs {
		switch verb {
		case "get":
			ops = append(ops, operation{method: "get", id: "read" + b.opGV + scope + name, action: "get", gvk: kind,
				doc: "Read the " + sub + " of a " + s.kind + ".", response: obj})
		case "update":
			ops = append(ops, operation{method: "put", id: "replace" + b.opGV + scope + name, action: "put", gvk: kind,
				doc: "Replace the " + sub + " of a " + s.kind + ".", params: writeParams, body: obj, response: obj, codes: []int{200, 201}})
		case "patch":
			ops = append(ops, operation{method: "patch", id: "patch" + b.opGV + scope + name, action: "patch", gvk: kind,
				doc: "Patch the " + sub + " of a " + s.kind + ".", params: patchParams, body: patchType, patch: true,
				response: obj, codes: []int{200, 201}})
		case "create":
			ops = append(ops, operation{method: "post", id: "create" + b.opGV + scope + name, action: "post", gvk: kind,
				doc: "Create a " + sub + " for a " + s.kind + ".", params: writeParams, body: obj, response: obj, codes: []int{200, 201, 202}})
		}
	}
	b.add(route{path: path, params: itemParams, ops: ops})
	return nil
}

// connect lists the operations of a streaming subresource, one per HTTP
// method, named as upstream names them: connectCoreV1GetNamespacedPodExec.
func (b *routeBuilder) connect(kind schema.GroupVersionKind, methods []string, scope, name, doc string) []operation {
	var ops []operation
	for _, m := range methods {
		ops = append(ops, operation{method: m, id: "connect" + b.opGV + title(m) + scope + name, action: "connect",
			gvk: kind, doc: doc, media: anyMedia})
	}
	return ops
}
