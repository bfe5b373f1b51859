package openapi

import (
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// v2Document renders the OpenAPI v2 (Swagger 2.0) document: every route of
// every group-version in one document, with the same definition names as
// the v3 documents.
func v2Document(routes []route, g *generator) *spec.Swagger {
	paths := map[string]spec.PathItem{}
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
				Produces:    responseMedia(op),
				Parameters:  v2Params(op.params),
				Responses:   v2Responses(op, g),
			}}
			addExtensions(o, op)
			if op.body != nil {
				body := g.ref(op.body)
				o.Parameters = append([]spec.Parameter{{ParamProps: spec.ParamProps{Name: "body", In: "body", Required: true, Schema: &body}}}, o.Parameters...)
				if op.patch {
					o.Consumes = patchMedia
				}
			}
			setOperation(op.method, o, &item.Get, &item.Put, &item.Post, &item.Delete, &item.Patch, &item.Head, &item.Options)
		}
		paths[r.path] = item
	}
	definitions := spec.Definitions{}
	for name, s := range g.closure(rootTypes(routes)) {
		definitions[name] = *s
	}
	return &spec.Swagger{SwaggerProps: spec.SwaggerProps{
		Swagger:     "2.0",
		Info:        info,
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

// v2Responses lists the success responses of op and 401 Unauthorized.
func v2Responses(op operation, g *generator) *spec.Responses {
	body := responseSchema(op, g)
	codes := map[int]spec.Response{401: {ResponseProps: spec.ResponseProps{Description: "Unauthorized"}}}
	for _, code := range successCodes(op) {
		codes[code] = spec.Response{ResponseProps: spec.ResponseProps{Description: codeText[code], Schema: body}}
	}
	return &spec.Responses{ResponsesProps: spec.ResponsesProps{StatusCodeResponses: codes}}
}
