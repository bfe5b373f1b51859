package discovery

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"

	"skiff.dev/internal/registry"
)

// group is one API group with its versions, the preferred one first.
type group struct {
	name     string
	versions []groupVersion
}

// groupVersion is one served group-version with its resources, sorted by
// name, subresources right after their parent ("pods", "pods/log", ...).
type groupVersion struct {
	gv        schema.GroupVersion
	resources []metav1.APIResource
}

// buildGroups sorts resources into groups, in the order their groups first
// appear in resources, with versions in upstream's priority order (GA
// before beta before alpha, higher numbers first), which makes the first
// version the preferred one: autoscaling/v2 over autoscaling/v1.
func buildGroups(resources []registry.Resource) []group {
	var groups []group
	index := map[string]int{}
	byGV := map[schema.GroupVersion][]metav1.APIResource{}
	for _, r := range resources {
		gv := r.Kind.GroupVersion()
		i, ok := index[gv.Group]
		if !ok {
			i = len(groups)
			index[gv.Group] = i
			groups = append(groups, group{name: gv.Group})
		}
		if _, ok := byGV[gv]; !ok {
			groups[i].versions = append(groups[i].versions, groupVersion{gv: gv})
		}
		byGV[gv] = append(byGV[gv], apiResources(r)...)
	}
	for i := range groups {
		vs := groups[i].versions
		slices.SortStableFunc(vs, func(a, b groupVersion) int {
			return -version.CompareKubeAwareVersionStrings(a.gv.Version, b.gv.Version)
		})
		for j := range vs {
			list := byGV[vs[j].gv]
			slices.SortStableFunc(list, func(a, b metav1.APIResource) int { return strings.Compare(a.Name, b.Name) })
			vs[j].resources = list
		}
	}
	return groups
}

// apiResources describes r and each of its subresources as legacy
// discovery lists them.
func apiResources(r registry.Resource) []metav1.APIResource {
	storage := r.Kind
	if r.StorageKind != nil {
		storage = *r.StorageKind
	}
	out := []metav1.APIResource{{
		Name:               r.Name,
		SingularName:       r.Singular,
		Namespaced:         r.Namespaced,
		Kind:               r.Kind.Kind,
		Verbs:              verbs(r),
		ShortNames:         r.ShortNames,
		Categories:         r.Categories,
		StorageVersionHash: storageVersionHash(storage),
	}}
	for _, sub := range r.Subresources {
		kind, vs := Subresource(r, sub)
		a := metav1.APIResource{
			Name:       r.Name + "/" + sub,
			Namespaced: r.Namespaced,
			Kind:       kind.Kind,
			Verbs:      vs,
		}
		if kind.GroupVersion() != r.Kind.GroupVersion() {
			a.Group, a.Version = kind.Group, kind.Version
		}
		out = append(out, a)
	}
	return out
}

// storageVersionHash is an opaque, stable digest of the kind objects are
// stored as. Clients only compare it for equality, to notice that the
// storage version changed.
func storageVersionHash(gvk schema.GroupVersionKind) string {
	sum := sha256.Sum256([]byte(gvk.Group + "/" + gvk.Version + "/" + gvk.Kind))
	return base64.StdEncoding.EncodeToString(sum[:8])
}
