package registry

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// namespaces are cluster-scoped. A new namespace is Active and carries the
// "kubernetes" finalizer, which the namespace controller removes (through
// the finalize subresource) once it has emptied a deleted namespace.
func namespaces() Resource {
	return Resource{
		Kind:         gvk(core, "Namespace"),
		Name:         "namespaces",
		Singular:     "namespace",
		ShortNames:   []string{"ns"},
		Subresources: []string{"status", "finalize"},
		Verbs:        []string{"create", "delete", "get", "list", "patch", "update", "watch"},
		ValidName:    apivalidation.NameIsDNSLabel,
		Strategy: Strategy{
			HasStatus: true,
			Default: func(obj runtime.Object) {
				ns := obj.(*corev1.Namespace)
				if ns.Name != "" {
					if ns.Labels == nil {
						ns.Labels = map[string]string{}
					}
					ns.Labels[corev1.LabelMetadataName] = ns.Name
				}
			},
			PrepareForCreate: func(obj runtime.Object) {
				ns := obj.(*corev1.Namespace)
				ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
				for _, f := range ns.Spec.Finalizers {
					if f == corev1.FinalizerKubernetes {
						return
					}
				}
				ns.Spec.Finalizers = append(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
			},
			PrepareForUpdate: func(obj, old runtime.Object) {
				// Finalizers change only through the finalize subresource.
				obj.(*corev1.Namespace).Spec.Finalizers = old.(*corev1.Namespace).Spec.Finalizers
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateNamespaceFinalizers(obj.(*corev1.Namespace))
			},
			ValidateStatusUpdate: func(obj, old runtime.Object) field.ErrorList {
				return validateNamespacePhase(obj.(*corev1.Namespace))
			},
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				column("Status", "string", "The status of the namespace"),
				ageColumn,
			},
			Row: func(obj runtime.Object) []interface{} {
				ns := obj.(*corev1.Namespace)
				return []interface{}{ns.Name, string(ns.Status.Phase), age(ns.CreationTimestamp)}
			},
			Fields: func(obj runtime.Object) fields.Set {
				ns := obj.(*corev1.Namespace)
				// "name" is a historical alias upstream still serves.
				return fields.Set{"status.phase": string(ns.Status.Phase), "name": ns.Name}
			},
		},
	}
}

func validateNamespaceFinalizers(ns *corev1.Namespace) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec", "finalizers")
	for i, f := range ns.Spec.Finalizers {
		errs = append(errs, validateFinalizerName(string(f), p.Index(i))...)
	}
	return errs
}

// validateFinalizerName accepts "kubernetes" and qualified names with a
// domain prefix, as upstream does.
func validateFinalizerName(name string, p *field.Path) field.ErrorList {
	errs := invalidEach(p, name, validation.IsQualifiedName(name))
	if len(errs) == 0 && !strings.Contains(name, "/") && name != string(corev1.FinalizerKubernetes) {
		errs = append(errs, field.Invalid(p, name, "name is neither a standard finalizer name nor is it fully qualified"))
	}
	return errs
}

func validateNamespacePhase(ns *corev1.Namespace) field.ErrorList {
	p := field.NewPath("status", "Phase")
	if ns.DeletionTimestamp.IsZero() {
		if ns.Status.Phase != corev1.NamespaceActive {
			return field.ErrorList{field.Invalid(p, ns.Status.Phase, "may only be 'Active' if `deletionTimestamp` is empty")}
		}
	} else if ns.Status.Phase != corev1.NamespaceTerminating {
		return field.ErrorList{field.Invalid(p, ns.Status.Phase, "may only be 'Terminating' if `deletionTimestamp` is not empty")}
	}
	return nil
}
