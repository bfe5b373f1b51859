package openapi

import (
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// v3Document renders the OpenAPI v3 document of one group-version.
func v3Document(routes []route, g *generator) *spec3.OpenAPI {
	paths := map[string]*spec3.Path{}
	for _, r := range routes {
		p := &spec3.Path{PathProps: spec3.PathProps{Parameters: v3Params(r.params)}}
		for _, op := range r.ops {
			o := &spec3.Operation{OperationProps: spec3.OperationProps{
				Description: op.doc,
				OperationId: op.id,
				Tags:        []string{op.tag},
				Parameters:  v3Params(op.params),
				Responses:   v3Responses(op, g),
			}}
			addExtensions(o, op)
			if op.body != nil {
				body := g.ref(op.body)
				media := anyMedia
				if op.patch {
					media = patchMedia
				}
				o.RequestBody = &spec3.RequestBody{RequestBodyProps: spec3.RequestBodyProps{Content: v3Content(media, &body), Required: true}}
			}
			setOperation(op.method, o, &p.Get, &p.Put, &p.Post, &p.Delete, &p.Patch, &p.Head, &p.Options)
		}
		paths[r.path] = p
	}
	return &spec3.OpenAPI{
		Version:    "3.0.0",
		Info:       info,
		Paths:      &spec3.Paths{Paths: paths},
		Components: &spec3.Components{Schemas: g.closure(rootTypes(routes))},
	}
}

func v3Params(params []param) []*spec3.Parameter {
	var out []*spec3.Parameter
	for _, p := range params {
		out = append(out, &spec3.Parameter{ParameterProps: spec3.ParameterProps{
			Name:        p.name,
			In:          p.in,
			Description: p.doc,
			Required:    p.required,
			Schema:      &spec.Schema{SchemaProps: spec.SchemaProps{Type: []string{p.typ}, UniqueItems: true}},
		}})
	}
	return out
}

func v3Content(media []string, s *spec.Schema) map[string]*spec3.MediaType {
	out := map[string]*spec3.MediaType{}
	for _, m := range media {
		out[m] = &spec3.MediaType{MediaTypeProps: spec3.MediaTypeProps{Schema: s}}
	}
	return out
}

// v3Responses lists the success responses of op and 401 Unauthorized.
func v3Responses(op operation, g *generator) *spec3.Responses {
	body, media := responseSchema(op, g), responseMedia(op)
	codes := map[int]*spec3.Response{401: {ResponseProps: spec3.ResponseProps{Description: "Unauthorized"}}}
	for _, code := range successCodes(op) {
		codes[code] = &spec3.Response{ResponseProps: spec3.ResponseProps{Description: codeText[code], Content: v3Content(media, body)}}
	}
	return &spec3.Responses{ResponsesProps: spec3.ResponsesProps{StatusCodeResponses: codes}}
}
