package openapi

import (
	"reflect"

	"k8s.io/kube-openapi/pkg/validation/spec"

	"skiff.dev/internal/version"
)

// What the v2 and v3 documents share.

var info = &spec.Info{InfoProps: spec.InfoProps{Title: "Kubernetes", Version: version.Kubernetes}}

// rootTypes lists the request and response body types of routes: the
// roots of the documents' definitions.
func rootTypes(routes []route) []reflect.Type {
	var roots []reflect.Type
	for _, r := range routes {
		for _, op := range r.ops {
			if op.body != nil {
				roots = append(roots, op.body)
			}
			if op.response != nil {
				roots = append(roots, op.response)
			}
		}
	}
	return roots
}

// addExtensions adds op's Kubernetes extensions to a v2 or v3 operation.
func addExtensions(o interface{ AddExtension(string, any) }, op operation) {
	if op.action != "" {
		o.AddExtension("x-kubernetes-action", op.action)
	}
	if !op.gvk.Empty() {
		o.AddExtension(extGVK, map[string]any{"group": op.gvk.Group, "version": op.gvk.Version, "kind": op.gvk.Kind})
	}
}

// setOperation stores o in the field of a v2 or v3 path that method names.
func setOperation[O any](method string, o *O, get, put, post, del, patch, head, options **O) {
	fields := map[string]**O{"get": get, "put": put, "post": post, "delete": del, "patch": patch, "head": head, "options": options}
	if f := fields[method]; f != nil {
		*f = o
	}
}

// responseSchema is the schema of op's success responses: its response
// type, or a plain string.
func responseSchema(op operation, g *generator) *spec.Schema {
	if op.response == nil {
		return &spec.Schema{SchemaProps: spec.SchemaProps{Type: []string{"string"}}}
	}
	ref := g.ref(op.response)
	return &ref
}

// responseMedia is the media types of op's responses.
func responseMedia(op operation) []string {
	if op.media == nil {
		return objectMedia
	}
	return op.media
}

var codeText = map[int]string{200: "OK", 201: "Created", 202: "Accepted"}

func successCodes(op operation) []int {
	if op.codes == nil {
		return []int{200}
	}
	return op.codes
}
