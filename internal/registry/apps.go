package registry

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The apps group: the workload controllers (deployments, replica sets,
// stateful sets, daemon sets, each in its own file) and the controller
// revisions that stateful and daemon sets keep their history in.

var appsGV = appsv1.SchemeGroupVersion

// controllerRevisions hold the history of stateful sets and daemon sets.
func controllerRevisions() Resource {
	return Resource{
		Kind: gvk(appsGV, "ControllerRevision"), Name: "controllerrevisions", Singular: "controllerrevision",
		Namespaced: true,
		Strategy: Strategy{
			Validate: func(obj runtime.Object) field.ErrorList {
				r := obj.(*appsv1.ControllerRevision)
				var errs field.ErrorList
				if r.Data.Raw == nil && r.Data.Object == nil {
					errs = append(errs, field.Required(field.NewPath("data"), "data is mandatory"))
				}
				return append(errs, apivalidation.ValidateNonnegativeField(r.Revision, field.NewPath("revision"))...)
			},
			ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
				n, o := obj.(*appsv1.ControllerRevision), old.(*appsv1.ControllerRevision)
				if string(n.Data.Raw) != string(o.Data.Raw) {
					return field.ErrorList{field.Invalid(field.NewPath("data"), n.Data, "field is immutable")}
				}
				return nil
			},
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				column("Controller", "string", "Controller of the object"),
				column("Revision", "string", appsv1.ControllerRevision{}.SwaggerDoc()["revision"]),
				ageColumn,
			},
			Row: func(obj runtime.Object) []interface{} {
				r := obj.(*appsv1.ControllerRevision)
				controller := "<none>"
				if ref := metav1.GetControllerOf(r); ref != nil {
					gv, _ := schema.ParseGroupVersion(ref.APIVersion)
					controller = strings.ToLower(gv.WithKind(ref.Kind).GroupKind().String()) + "/" + ref.Name
				}
				return []interface{}{r.Name, controller, r.Revision, age(r.CreationTimestamp)}
			},
		},
	}
}

// validateAlwaysRestartTemplate checks the pod template of a controller
// whose pods run forever: a valid template whose pods restart Always and
// have no deadline. kind names the controller in messages ("ReplicaSet").
func validateAlwaysRestartTemplate(t *corev1.PodTemplateSpec, p *field.Path, kind string) field.ErrorList {
	errs := validatePodTemplateSpec(t, p)
	if t.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(p.Child("spec", "restartPolicy"), t.Spec.RestartPolicy,
			[]string{string(corev1.RestartPolicyAlways)}))
	}
	if t.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(p.Child("spec", "activeDeadlineSeconds"),
			fmt.Sprintf("activeDeadlineSeconds in %s is not Supported", kind)))
	}
	return errs
}

// selectorImmutable forbids changing spec.selector, as apps/v1 does.
func selectorImmutable(n, o *metav1.LabelSelector) field.ErrorList {
	return apivalidation.ValidateImmutableField(n, o, field.NewPath("spec", "selector"))
}

// statusCount is one integer field of a status, for validateCounts.
type statusCount struct {
	name  string
	value int64
}

// validateCounts reports the negative counts of a status.
func validateCounts(p *field.Path, counts ...statusCount) field.ErrorList {
	var errs field.ErrorList
	for _, c := range counts {
		errs = append(errs, apivalidation.ValidateNonnegativeField(c.value, p.Child(c.name))...)
	}
	return errs
}

// atMost reports a status count above the count it is part of, such as
// readyReplicas above replicas.
func atMost(p *field.Path, c, limit statusCount) field.ErrorList {
	if c.value > limit.value {
		msg := "cannot be greater than status." + limit.name
		if limit.name != "replicas" {
			msg = "cannot be greater than " + limit.name
		}
		return field.ErrorList{field.Invalid(p.Child(c.name), c.value, msg)}
	}
	return nil
}

// collisionCountNotDecremented reports a collision count that went down.
func collisionCountNotDecremented(n, o *int32) field.ErrorList {
	if n != nil && o != nil && *n < *o {
		return field.ErrorList{field.Invalid(field.NewPath("status", "collisionCount"), *o, "cannot be decremented")}
	}
	return nil
}

// optionalCount reads an optional count as a status count does.
func optionalCount(p *int32) int64 {
	if p == nil {
		return 0
	}
	return int64(*p)
}

// workloadCells gives the wide cells every workload table ends with: the
// template's containers and images, and the selector when withSelector.
func workloadCells(t *corev1.PodTemplateSpec, sel *metav1.LabelSelector, withSelector bool) []interface{} {
	names, images := podSpecContainersAndImages(&t.Spec)
	if !withSelector {
		return []interface{}{names, images}
	}
	return []interface{}{names, images, metav1.FormatLabelSelector(sel)}
}

// selectorColumn is the wide Selector column of workloads.
func selectorColumn(description string) metav1.TableColumnDefinition {
	return wideColumn("Selector", "string", description)
}
