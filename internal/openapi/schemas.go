package openapi

import (
	"reflect"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/kube-openapi/pkg/validation/spec"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"
)

// Extension names kubectl and server-side apply read.
const (
	extGVK            = "x-kubernetes-group-version-kind"
	extPatchStrategy  = "x-kubernetes-patch-strategy"
	extPatchMergeKey  = "x-kubernetes-patch-merge-key"
	extListType       = "x-kubernetes-list-type"
	extListMapKeys    = "x-kubernetes-list-map-keys"
	extMapType        = "x-kubernetes-map-type"
	extIntOrString    = "x-kubernetes-int-or-string"
	v3SchemaRefPrefix = "#/components/schemas/"
	v2SchemaRefPrefix = "#/definitions/"
)

// generator turns Go types into OpenAPI schemas, one named definition per
// struct type, by reflection. The same types give slightly different
// schemas in OpenAPI v2 and v3 (references wrapped in allOf, defaults,
// oneOf), so a generator makes one flavour.
type generator struct {
	v3   bool
	defs map[string]*spec.Schema
	refs map[string]spec.Ref
	gvks map[reflect.Type][]schema.GroupVersionKind
	smd  *smdschema.Schema // list and map semantics; may be nil
}

func newGenerator(v3 bool, gvks map[reflect.Type][]schema.GroupVersionKind, smd *smdschema.Schema) *generator {
	return &generator{v3: v3, defs: map[string]*spec.Schema{}, refs: map[string]spec.Ref{}, gvks: gvks, smd: smd}
}

// ref returns a schema that refers to the definition of t, defining it
// (and everything it reaches) first if needed.
func (g *generator) ref(t reflect.Type) spec.Schema {
	name := g.define(t)
	r, ok := g.refs[name]
	if !ok {
		prefix := v2SchemaRefPrefix
		if g.v3 {
			prefix = v3SchemaRefPrefix
		}
		r = spec.MustCreateRef(prefix + name)
		g.refs[name] = r
	}
	return spec.Schema{SchemaProps: spec.SchemaProps{Ref: r}}
}

// define makes sure the struct type t has a definition and returns its name.
func (g *generator) define(t reflect.Type) string {
	name := definitionName(t)
	if _, ok := g.defs[name]; ok {
		return name
	}
	s := &spec.Schema{}
	g.defs[name] = s // before building: types may refer to themselves
	if special, ok := g.special(t); ok {
		*s = special
	} else {
		*s = g.object(t, name)
	}
	if s.Description == "" {
		s.Description = describe(t)[""]
	}
	if gvks := g.gvks[t]; len(gvks) > 0 {
		var list []interface{}
		for _, gvk := range gvks {
			list = append(list, map[string]interface{}{"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind})
		}
		s.AddExtension(extGVK, list)
	}
	if td, ok := g.smdType(name); ok && td.Map != nil && td.Map.ElementRelationship == smdschema.Atomic {
		s.AddExtension(extMapType, "atomic")
	}
	return name
}

// openAPISchemaTyper is implemented by the apimachinery types that are
// not serialized as their Go structure: Time, Quantity, IntOrString...
type openAPISchemaTyper interface {
	OpenAPISchemaType() []string
	OpenAPISchemaFormat() string
}

// special returns the schema of a type that declares its own OpenAPI type.
// In v3, types that accept several JSON types (IntOrString, Quantity) say
// so with oneOf.
func (g *generator) special(t reflect.Type) (spec.Schema, bool) {
	v, ok := reflect.Zero(t).Interface().(openAPISchemaTyper)
	if !ok {
		return spec.Schema{}, false
	}
	s := spec.Schema{SchemaProps: spec.SchemaProps{Type: v.OpenAPISchemaType(), Format: v.OpenAPISchemaFormat()}}
	if oneOf, ok := v.(interface{ OpenAPIV3OneOfTypes() []string }); ok && g.v3 {
		s.Type = nil
		for _, typ := range oneOf.OpenAPIV3OneOfTypes() {
			s.OneOf = append(s.OneOf, spec.Schema{SchemaProps: spec.SchemaProps{Type: []string{typ}}})
		}
	}
	if s.Format == "int-or-string" {
		s.AddExtension(extIntOrString, true)
	}
	return s, true
}

// field is one JSON property of a struct, after inlining embedded structs.
type field struct {
	name      string
	omitempty bool
	sf        reflect.StructField
	owner     reflect.Type // the struct declaring it, whose SwaggerDoc describes it
}

// fields lists the JSON properties of struct type t, as encoding/json
// sees them: embedded structs without a name, and fields tagged inline,
// contribute their own fields.
func fields(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		inline := slices.Contains(strings.Split(opts, ","), "inline")
		if sf.Anonymous && (name == "" || inline) {
			et := sf.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				out = append(out, fields(et)...)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out = append(out, field{name: name, omitempty: slices.Contains(strings.Split(opts, ","), "omitempty"), sf: sf, owner: t})
	}
	return out
}

// object is the schema of a plain struct: its properties, the required
// ones (those serialized even when empty), and their descriptions.
func (g *generator) object(t reflect.Type, name string) spec.Schema {
	s := spec.Schema{SchemaProps: spec.SchemaProps{Type: []string{"object"}}}
	smdType, _ := g.smdType(name)
	for _, f := range fields(t) {
		if s.Properties == nil {
			s.Properties = map[string]spec.Schema{}
		}
		s.Properties[f.name] = g.property(f, smdType)
		if !f.omitempty {
			s.Required = append(s.Required, f.name)
		}
	}
	return s
}

// property is the schema of one struct field.
func (g *generator) property(f field, smdType smdschema.TypeDef) spec.Schema {
	t := f.sf.Type
	s := g.schemaOf(t)
	description := describe(f.owner)[f.name]
	var def interface{}
	if g.v3 && t.Kind() != reflect.Pointer {
		def = zeroDefault(t, f.omitempty)
	}
	ext := spec.Extensions{}
	if v := f.sf.Tag.Get("patchStrategy"); v != "" {
		ext.Add(extPatchStrategy, v)
	}
	if v := f.sf.Tag.Get("patchMergeKey"); v != "" {
		ext.Add(extPatchMergeKey, v)
	}
	if smdType.Map != nil {
		if sf, ok := smdType.Map.FindField(f.name); ok {
			g.smdExtensions(sf.Type, ext)
		}
	}
	if s.Ref.String() != "" {
		if description == "" && def == nil && len(ext) == 0 {
			return s
		}
		if g.v3 {
			// A $ref's siblings are ignored in OpenAPI v3: wrap it.
			s = spec.Schema{SchemaProps: spec.SchemaProps{AllOf: []spec.Schema{s}}}
		}
	}
	s.Description = description
	s.Default = def
	for k, v := range ext {
		s.AddExtension(k, v)
	}
	return s
}

// schemaOf is the schema of a value of type t: a reference for structs,
// an inline schema for everything else.
func (g *generator) schemaOf(t reflect.Type) spec.Schema {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct {
		return g.ref(t)
	}
	if _, ok := g.special(t); ok && t.Name() != "" {
		return g.ref(t)
	}
	switch t.Kind() {
	case reflect.String:
		return typed("string", "")
	case reflect.Bool:
		return typed("boolean", "")
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint8, reflect.Uint16:
		return typed("integer", "int32")
	case reflect.Int, reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64:
		return typed("integer", "int64")
	case reflect.Float32:
		return typed("number", "float")
	case reflect.Float64:
		return typed("number", "double")
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return typed("string", "byte")
		}
		s := typed("array", "")
		item := g.element(t.Elem())
		s.Items = &spec.SchemaOrArray{Schema: &item}
		return s
	case reflect.Map:
		s := typed("object", "")
		value := g.element(t.Elem())
		s.AdditionalProperties = &spec.SchemaOrBool{Allows: true, Schema: &value}
		return s
	}
	// Interfaces and anything else: any JSON object.
	return typed("object", "")
}

// element is the schema of a list item or map value. In v3, structs held
// by value carry an empty-object default, as upstream writes them.
func (g *generator) element(t reflect.Type) spec.Schema {
	s := g.schemaOf(t)
	if g.v3 && s.Ref.String() != "" && t.Kind() == reflect.Struct {
		if _, special := g.special(t); !special {
			return spec.Schema{SchemaProps: spec.SchemaProps{AllOf: []spec.Schema{s}, Default: map[string]interface{}{}}}
		}
	}
	return s
}

// zeroDefault is the default upstream publishes for a field held by value:
// an empty object for structs, and the zero value for scalars that are
// always serialized. Lists, maps and special types have none.
func zeroDefault(t reflect.Type, omitempty bool) interface{} {
	if _, special := reflect.Zero(t).Interface().(openAPISchemaTyper); special {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		return map[string]interface{}{}
	case reflect.String:
		if !omitempty {
			return ""
		}
	case reflect.Bool:
		if !omitempty {
			return false
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		if !omitempty {
			return 0
		}
	}
	return nil
}

func typed(typ, format string) spec.Schema {
	return spec.Schema{SchemaProps: spec.SchemaProps{Type: []string{typ}, Format: format}}
}

// describe returns the SwaggerDoc of struct type t: field JSON name to
// description, with "" the description of the type itself.
func describe(t reflect.Type) map[string]string {
	if t.Kind() != reflect.Struct {
		return nil
	}
	if d, ok := reflect.Zero(t).Interface().(interface{ SwaggerDoc() map[string]string }); ok {
		return d.SwaggerDoc()
	}
	return extraDocs[t]
}

// extraDocs describe the types that have no SwaggerDoc method.
var extraDocs = map[reflect.Type]map[string]string{
	reflect.TypeFor[runtime.RawExtension](): {"": "RawExtension holds an embedded object of any kind, as JSON (or, over protobuf, with its own encoding)."},
	reflect.TypeFor[metav1.Time]():          {"": "Time is a timestamp in RFC 3339 form, to the second, in UTC: 2006-01-02T15:04:05Z."},
	reflect.TypeFor[metav1.MicroTime]():     {"": "MicroTime is a timestamp in RFC 3339 form with microseconds: 2006-01-02T15:04:05.000000Z."},
	reflect.TypeFor[metav1.Duration]():      {"": "Duration is a length of time written as Go writes durations: 1h2m3s, 500ms."},
	reflect.TypeFor[resource.Quantity](): {"": "Quantity is a fixed-point number with an optional suffix: a binary one (Ki, Mi, Gi, Ti, Pi, Ei), " +
		"a decimal one (m, k, M, G, T, P, E) or a decimal exponent (e3). Examples: 100m, 1.5, 128Mi, 2G."},
	reflect.TypeFor[intstr.IntOrString](): {"": "IntOrString holds either an integer or a string, as JSON writes it: 80 or \"http\", 3 or \"25%\"."},
}
