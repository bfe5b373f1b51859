package registry

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// podUpdateForbidden is upstream's message for a pod update that changes
// more than the few mutable fields of a pod spec.
const podUpdateForbidden = "pod updates may not change fields other than " +
	"`spec.containers[*].image`," +
	"`spec.initContainers[*].image`," +
	"`spec.activeDeadlineSeconds`," +
	"`spec.tolerations` (only additions to existing tolerations)," +
	"`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"

// validatePodSpecUpdate checks an update of a pod's spec through the main
// resource. Like upstream, a running pod's spec is immutable except for
// container images, a shorter activeDeadlineSeconds, added tolerations,
// removed scheduling gates and a negative grace period raised to 1.
func validatePodSpecUpdate(new, old *corev1.Pod) field.ErrorList {
	var errs field.ErrorList
	sp := field.NewPath("spec")
	if len(new.Spec.Containers) != len(old.Spec.Containers) {
		return field.ErrorList{field.Forbidden(sp.Child("containers"), "pod updates may not add or remove containers")}
	}
	if len(new.Spec.InitContainers) != len(old.Spec.InitContainers) {
		return field.ErrorList{field.Forbidden(sp.Child("initContainers"), "pod updates may not add or remove containers")}
	}

	if d := new.Spec.ActiveDeadlineSeconds; d != nil {
		switch {
		case *d < 0 || *d > math.MaxInt32:
			errs = append(errs, field.Invalid(sp.Child("activeDeadlineSeconds"), *d, "must be between 0 and 2147483647, inclusive"))
		case old.Spec.ActiveDeadlineSeconds != nil && *old.Spec.ActiveDeadlineSeconds < *d:
			errs = append(errs, field.Invalid(sp.Child("activeDeadlineSeconds"), *d, "must be less than or equal to previous value"))
		}
	} else if old.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Invalid(sp.Child("activeDeadlineSeconds"), new.Spec.ActiveDeadlineSeconds, "must not update from a positive integer to nil value"))
	}
	errs = append(errs, validateAddedTolerations(new.Spec.Tolerations, old.Spec.Tolerations, sp.Child("tolerations"))...)
	oldGates := sets.New[string]()
	for _, g := range old.Spec.SchedulingGates {
		oldGates.Insert(g.Name)
	}
	for i, g := range new.Spec.SchedulingGates {
		if !oldGates.Has(g.Name) {
			errs = append(errs, field.Forbidden(sp.Child("schedulingGates").Index(i),
				fmt.Sprintf("only deletion is allowed, but found new scheduling gate '%s'", g.Name)))
		}
	}

	// Copy the mutable fields from the new spec onto the old one; anything
	// left different is a forbidden change.
	munged := new.Spec.DeepCopy()
	for i := range munged.Containers {
		munged.Containers[i].Image = old.Spec.Containers[i].Image
	}
	for i := range munged.InitContainers {
		munged.InitContainers[i].Image = old.Spec.InitContainers[i].Image
	}
	munged.ActiveDeadlineSeconds = old.Spec.ActiveDeadlineSeconds
	munged.Tolerations = old.Spec.Tolerations
	munged.SchedulingGates = old.Spec.SchedulingGates
	if o, n := old.Spec.TerminationGracePeriodSeconds, new.Spec.TerminationGracePeriodSeconds; o != nil && *o < 0 && n != nil && *n == 1 {
		munged.TerminationGracePeriodSeconds = o
	}
	if !equality.Semantic.DeepEqual(*munged, old.Spec) {
		errs = append(errs, field.Forbidden(sp, podUpdateForbidden+"\n"+specDiff(&old.Spec, munged)))
	}
	return errs
}

// validateAddedTolerations allows new tolerations and changed
// tolerationSeconds, but no removed or otherwise changed toleration.
func validateAddedTolerations(new, old []corev1.Toleration, p *field.Path) field.ErrorList {
	for _, o := range old {
		found := false
		for _, n := range new {
			c := o
			c.TolerationSeconds = n.TolerationSeconds
			if reflect.DeepEqual(c, n) {
				found = true
				break
			}
		}
		if !found {
			return field.ErrorList{field.Forbidden(p, "existing toleration can not be modified except its tolerationSeconds")}
		}
	}
	return nil
}

// specDiff lists the top-level pod spec fields that differ, one "-" line
// with the old JSON value and one "+" line with the new, so the user sees
// what the update tried to change.
func specDiff(old, new *corev1.PodSpec) string {
	var b strings.Builder
	ov, nv := reflect.ValueOf(*old), reflect.ValueOf(*new)
	t := ov.Type()
	for i := range t.NumField() {
		a, z := ov.Field(i).Interface(), nv.Field(i).Interface()
		if equality.Semantic.DeepEqual(a, z) {
			continue
		}
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		aj, _ := json.Marshal(a)
		zj, _ := json.Marshal(z)
		fmt.Fprintf(&b, "-  %s: %s\n+  %s: %s\n", name, aj, name, zj)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
