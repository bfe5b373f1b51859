package openapi

import (
	"cmp"
	"reflect"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/applyconfigurations"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"
)

// mergeSchema returns the structured-merge-diff schema client-go ships for
// the built-in types. It records what the Go types cannot: whether a list
// is atomic, a set or a map keyed by some fields (+listType,
// +listMapKey), and which structs and maps are atomic. The OpenAPI
// documents publish it as x-kubernetes-list-type, -list-map-keys and
// -map-type, which server-side apply and clients read.
func mergeSchema(scheme *runtime.Scheme) *smdschema.Schema {
	// client-go exposes the schema only through a type converter; any
	// object of a known kind reveals the whole of it.
	tc := applyconfigurations.NewTypeConverter(scheme)
	tv, err := tc.ObjectToTyped(&corev1.ConfigMap{TypeMeta: metav1.TypeMeta{Kind: "ConfigMap", APIVersion: "v1"}})
	if err != nil {
		return nil
	}
	return tv.Schema()
}

func (g *generator) smdType(name string) (smdschema.TypeDef, bool) {
	if g.smd == nil {
		return smdschema.TypeDef{}, false
	}
	return g.smd.FindNamedType(name)
}

// smdExtensions adds the list and map semantics of a field, as the merge
// schema declares them, to ext.
func (g *generator) smdExtensions(ref smdschema.TypeRef, ext map[string]interface{}) {
	atom := ref.Inlined
	if ref.NamedType != nil {
		if ref.ElementRelationship == nil {
			return // the named type's own definition carries its semantics
		}
		td, ok := g.smdType(*ref.NamedType)
		if !ok {
			return
		}
		atom = td.Atom
	}
	switch {
	case atom.List != nil:
		rel := atom.List.ElementRelationship
		if ref.ElementRelationship != nil {
			rel = *ref.ElementRelationship
		}
		switch {
		case rel == smdschema.Associative && len(atom.List.Keys) > 0:
			ext[extListType] = "map"
			ext[extListMapKeys] = slices.Clone(atom.List.Keys)
		case rel == smdschema.Associative:
			ext[extListType] = "set"
		default:
			ext[extListType] = "atomic"
		}
	case atom.Map != nil:
		rel := atom.Map.ElementRelationship
		if ref.ElementRelationship != nil {
			rel = *ref.ElementRelationship
		}
		switch rel {
		case smdschema.Atomic:
			ext[extMapType] = "atomic"
		case smdschema.Separable:
			if ref.ElementRelationship != nil {
				ext[extMapType] = "granular"
			}
		}
	}
}

// kindsByType inverts a scheme: for each Go type, the external kinds it is
// registered as, sorted. These become x-kubernetes-group-version-kind.
func kindsByType(scheme *runtime.Scheme) map[reflect.Type][]schema.GroupVersionKind {
	out := map[reflect.Type][]schema.GroupVersionKind{}
	for gvk, t := range scheme.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal {
			continue
		}
		out[t] = append(out[t], gvk)
	}
	for _, list := range out {
		slices.SortFunc(list, func(a, b schema.GroupVersionKind) int {
			return cmp.Or(cmp.Compare(a.Group, b.Group), cmp.Compare(a.Version, b.Version), cmp.Compare(a.Kind, b.Kind))
		})
	}
	return out
}
