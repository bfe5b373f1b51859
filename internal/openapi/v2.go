package openapi

import (
	"reflect"

	"k8s.io/kube-openapi/pkg/validation/spec"

	"skiff.dev/internal/version"
)

// v2Document renders the OpenAPI v2 (Swagger 2.0) document: every route of
// every group-version in one document, with the same definition names as
// the v3 documents.
func v2Document(routes []route, g *generator) *spec.Swagger {
	paths := map[string]spec.PathItem{}
	var roots []reflect.Type
	for _, r := range routes {
		var item spec.PathItem
		item.Parameters = v2Params(r.params)
		for _, op := range r.ops {
			o := &spec.Operation{OperationProps: spec.OperationProps{
				Description: op.doc,
				ID:          op.id,
				Tags:        []string{op.tag},
				Schemes:     []string{"https"},
				Consumes:    []string{"*/*"},
				Produces:    op.media,
				Parameters:  v2Params(op.params),
				Responses:   v2Responses(op, g),
			}}
			if o.Produces == nil {
				o.Produces = objectMedia
			}
			if op.action != "" {
				o.AddExtension("x-kubernetes-action", op.action)
			}
			if !op.gvk.Empty() {
				o.AddExtension(extGVK, map[string]interface{}{"group": op.gvk.Group, "version": op.gvk.Version, "kind": op.gvk.Kind})
			}
			if op.body != nil {
				body := g.ref(op.body)
				o.Parameters = append([]spec.Parameter{{ParamProps: spec.ParamProps{Name: "body", In: "body", Required: true, Schema: &body}}}, o.Parameters...)
				if op.patch {
					o.Consumes = patchMedia
				}
				roots = append(roots, op.body)
			}
			if op.response != nil {
				roots = append(roots, op.response)
			}
			switch op.method {
			case "get":
				item.Get = o
			case "put":
				item.Put = o
			case "post":
				item.Post = o
			case "delete":
				item.Delete = o
			case "patch":
				item.Patch = o
			case "head":
				item.Head = o
			case "options":
				item.Options = o
			}
		}
		paths[r.path] = item
	}
	definitions := spec.Definitions{}
	for name, s := range g.closure(roots) {
		definitions[name] = *s
	}
	return &spec.Swagger{SwaggerProps: spec.SwaggerProps{
		Swagger:     "2.0",
		Info:        &spec.Info{InfoProps: spec.InfoProps{Title: "Kubernetes", Version: version.Kubernetes}},
		Paths:       &spec.Paths{Paths: paths},
		Definitions: definitions,
	}}
}

func v2Params(params []param) []spec.Parameter {
	var out []spec.Parameter
	for _, p := range params {
		out = append(out, spec.Parameter{
			ParamProps:        spec.ParamProps{Name: p.name, In: p.in, Description: p.doc, Required: p.required},
			SimpleSchema:      spec.SimpleSchema{Type: p.typ},
			CommonValidations: spec.CommonValidations{UniqueItems: true},
		})
	}
	return out
}

func v2Responses(op operation, g *generator) *spec.Responses {
	body := &spec.Schema{SchemaProps: spec.SchemaProps{Type: []string{"string"}}}
	if op.response != nil {
		ref := g.ref(op.response)
		body = &ref
	}
	codes := map[int]spec.Response{401: {ResponseProps: spec.ResponseProps{Description: "Unauthorized"}}}
	for _, code := range successCodes(op) {
		codes[code] = spec.Response{ResponseProps: spec.ResponseProps{Description: codeText[code], Schema: body}}
	}
	return &spec.Responses{ResponsesProps: spec.ResponsesProps{StatusCodeResponses: codes}}
}
