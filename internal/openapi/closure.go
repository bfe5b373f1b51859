package openapi

import (
	"reflect"
	"strings"

	"k8s.io/kube-openapi/pkg/validation/spec"
)

// closure returns the definitions the root types need: their own and,
// transitively, every definition they refer to.
func (g *generator) closure(roots []reflect.Type) map[string]*spec.Schema {
	out := map[string]*spec.Schema{}
	var queue []string
	for _, t := range roots {
		queue = append(queue, g.define(t))
	}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if _, ok := out[name]; ok {
			continue
		}
		s := g.defs[name]
		out[name] = s
		walkRefs(s, func(ref string) {
			i := strings.LastIndexByte(ref, '/')
			queue = append(queue, ref[i+1:])
		})
	}
	return out
}

// walkRefs calls visit with every reference in s.
func walkRefs(s *spec.Schema, visit func(string)) {
	if s == nil {
		return
	}
	if r := s.Ref.String(); r != "" {
		visit(r)
	}
	for i := range s.AllOf {
		walkRefs(&s.AllOf[i], visit)
	}
	for i := range s.OneOf {
		walkRefs(&s.OneOf[i], visit)
	}
	if s.Items != nil {
		walkRefs(s.Items.Schema, visit)
	}
	if s.AdditionalProperties != nil {
		walkRefs(s.AdditionalProperties.Schema, visit)
	}
	for _, p := range s.Properties {
		walkRefs(&p, visit)
	}
}
