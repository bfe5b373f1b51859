package registry

import (
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/kubernetes/scheme"
)

// groupResource finds a named group's resource by API version and name.
func groupResource(t *testing.T, apiVersion, name string) Resource {
	t.Helper()
	for _, r := range groupResources() {
		if r.Kind.GroupVersion().String() == apiVersion && r.Name == name {
			return r
		}
	}
	t.Fatalf("no resource %s in %s", name, apiVersion)
	return Resource{}
}

// errKeys renders errors as "path: type" pairs, e.g.
// "spec.selector: Required value", sorted.
func errKeys(errs field.ErrorList) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Field + ": " + e.Type.String()
	}
	slices.Sort(out)
	return out
}

// checkErrs fails unless errs are exactly want (in any order).
func checkErrs(t *testing.T, name string, errs field.ErrorList, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := errKeys(errs); !slices.Equal(got, want) {
		t.Errorf("%s: errors\n got %q\nwant %q\n(%v)", name, got, want, errs)
	}
}

// strategyCreate runs the create path of a strategy the way the API server does:
// defaults, preparation, then validation.
func strategyCreate(r Resource, obj runtime.Object) field.ErrorList {
	s := r.Strategy
	if s.Default != nil {
		s.Default(obj)
	}
	if s.PrepareForCreate != nil {
		s.PrepareForCreate(obj)
	}
	if s.Validate == nil {
		return nil
	}
	return s.Validate(obj)
}

// strategyUpdate runs the update path of a strategy on obj, replacing old.
func strategyUpdate(r Resource, obj, old runtime.Object) field.ErrorList {
	s := r.Strategy
	if s.Default != nil {
		s.Default(obj)
	}
	if s.PrepareForUpdate != nil {
		s.PrepareForUpdate(obj, old)
	}
	var errs field.ErrorList
	if s.Validate != nil {
		errs = s.Validate(obj)
	}
	if s.ValidateUpdate != nil {
		errs = append(errs, s.ValidateUpdate(obj, old)...)
	}
	return errs
}

func TestGroupResourcesTable(t *testing.T) {
	seen := map[string]bool{}
	var groups []string
	for _, r := range groupResources() {
		key := r.Kind.GroupVersion().String() + "/" + r.Name
		if seen[key] {
			t.Errorf("%s listed twice", key)
		}
		seen[key] = true
		if g := r.Kind.Group; len(groups) == 0 || groups[len(groups)-1] != g {
			if slices.Contains(groups, g) {
				t.Errorf("group %s is not listed in one run", g)
			}
			groups = append(groups, g)
		}
		if (r.StorageKind == nil) != (r.ToStorage == nil) || (r.ToStorage == nil) != (r.FromStorage == nil) {
			t.Errorf("%s: StorageKind, ToStorage and FromStorage go together", key)
		}
		if len(r.Strategy.Columns) == 0 {
			continue
		}
		obj, err := scheme.Scheme.New(r.Kind)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if got := len(r.Strategy.Row(obj)); got != len(r.Strategy.Columns) {
			t.Errorf("%s: %d cells for %d columns", key, got, len(r.Strategy.Columns))
		}
		for _, c := range r.Strategy.Columns {
			if c.Description == "" {
				t.Errorf("%s: column %s has no description", key, c.Name)
			}
		}
	}
	want := []string{"apps", "events.k8s.io", "authorization.k8s.io", "autoscaling", "batch", "networking.k8s.io",
		"policy", "rbac.authorization.k8s.io", "storage.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "discovery.k8s.io"}
	if !slices.Equal(groups, want) {
		t.Errorf("groups in order %v, want %v", groups, want)
	}
}

func TestGroupResourceNames(t *testing.T) {
	for _, c := range []struct {
		apiVersion, name, short, prefix string
		namespaced, all                 bool
		subresources                    []string
	}{
		{"apps/v1", "deployments", "deploy", "", true, true, []string{"status", "scale"}},
		{"apps/v1", "replicasets", "rs", "", true, true, []string{"status", "scale"}},
		{"apps/v1", "statefulsets", "sts", "", true, true, []string{"status", "scale"}},
		{"apps/v1", "daemonsets", "ds", "", true, true, []string{"status"}},
		{"apps/v1", "controllerrevisions", "", "", true, false, nil},
		{"batch/v1", "jobs", "", "", true, true, []string{"status"}},
		{"batch/v1", "cronjobs", "cj", "", true, true, []string{"status"}},
		{"autoscaling/v2", "horizontalpodautoscalers", "hpa", "horizontalpodautoscalers", true, true, []string{"status"}},
		{"autoscaling/v1", "horizontalpodautoscalers", "hpa", "horizontalpodautoscalers", true, true, []string{"status"}},
		{"policy/v1", "poddisruptionbudgets", "pdb", "", true, false, []string{"status"}},
		{"networking.k8s.io/v1", "ingresses", "ing", "ingress", true, false, []string{"status"}},
		{"networking.k8s.io/v1", "ingressclasses", "", "", false, false, nil},
		{"networking.k8s.io/v1", "networkpolicies", "netpol", "", true, false, nil},
		{"storage.k8s.io/v1", "storageclasses", "sc", "", false, false, nil},
		{"scheduling.k8s.io/v1", "priorityclasses", "pc", "", false, false, nil},
		{"coordination.k8s.io/v1", "leases", "", "", true, false, nil},
		{"discovery.k8s.io/v1", "endpointslices", "", "", true, false, nil},
		{"events.k8s.io/v1", "events", "ev", "events", true, false, nil},
		{"rbac.authorization.k8s.io/v1", "roles", "", "", true, false, nil},
		{"rbac.authorization.k8s.io/v1", "clusterroles", "", "", false, false, nil},
		{"rbac.authorization.k8s.io/v1", "rolebindings", "", "", true, false, nil},
		{"rbac.authorization.k8s.io/v1", "clusterrolebindings", "", "", false, false, nil},
		{"authorization.k8s.io/v1", "selfsubjectaccessreviews", "", "", false, false, nil},
	} {
		r := groupResource(t, c.apiVersion, c.name)
		short := ""
		if len(r.ShortNames) > 0 {
			short = r.ShortNames[0]
		}
		if short != c.short || r.StoragePrefix != c.prefix || r.Namespaced != c.namespaced ||
			slices.Contains(r.Categories, "all") != c.all || !slices.Equal(r.Subresources, c.subresources) {
			t.Errorf("%s/%s: short %v prefix %q namespaced %v categories %v subresources %v", c.apiVersion, c.name,
				r.ShortNames, r.StoragePrefix, r.Namespaced, r.Categories, r.Subresources)
		}
	}
	if v := groupResource(t, "authorization.k8s.io/v1", "selfsubjectaccessreviews").Verbs; !slices.Equal(v, []string{"create"}) {
		t.Errorf("selfsubjectaccessreviews verbs = %v", v)
	}
}
