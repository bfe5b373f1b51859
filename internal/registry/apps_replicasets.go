package registry

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

func replicaSets() Resource {
	spec, status := appsv1.ReplicaSetSpec{}.SwaggerDoc(), appsv1.ReplicaSetStatus{}.SwaggerDoc()
	return Resource{
		Kind: gvk(appsGV, "ReplicaSet"), Name: "replicasets", Singular: "replicaset",
		ShortNames: []string{"rs"}, Categories: []string{"all"}, Namespaced: true,
		Subresources: []string{"status", "scale"},
		Strategy: Strategy{
			HasStatus: true, Generation: true,
			Default: func(obj runtime.Object) {
				rs := obj.(*appsv1.ReplicaSet)
				if rs.Spec.Replicas == nil {
					rs.Spec.Replicas = ptr.To[int32](1)
				}
				defaultPodTemplateSpec(&rs.Spec.Template)
			},
			PrepareForCreate: func(obj runtime.Object) {
				obj.(*appsv1.ReplicaSet).Status = appsv1.ReplicaSetStatus{}
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				s := &obj.(*appsv1.ReplicaSet).Spec
				p := field.NewPath("spec")
				errs := apivalidation.ValidateNonnegativeField(int64(ptr.Deref(s.Replicas, 0)), p.Child("replicas"))
				errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.MinReadySeconds), p.Child("minReadySeconds"))...)
				errs = append(errs, validateSelectorMatchesTemplate(s.Selector, s.Template.Labels, p, "deployment")...)
				return append(errs, validateAlwaysRestartTemplate(&s.Template, p.Child("template"), "ReplicaSet")...)
			},
			ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
				return selectorImmutable(obj.(*appsv1.ReplicaSet).Spec.Selector, old.(*appsv1.ReplicaSet).Spec.Selector)
			},
			ValidateStatusUpdate: func(obj, _ runtime.Object) field.ErrorList {
				s := &obj.(*appsv1.ReplicaSet).Status
				p := field.NewPath("status")
				replicas, ready := statusCount{"replicas", int64(s.Replicas)}, statusCount{"readyReplicas", int64(s.ReadyReplicas)}
				labeled, available := statusCount{"fullyLabeledReplicas", int64(s.FullyLabeledReplicas)}, statusCount{"availableReplicas", int64(s.AvailableReplicas)}
				errs := validateCounts(p, replicas, labeled, ready, available, statusCount{"observedGeneration", s.ObservedGeneration},
					statusCount{"terminatingReplicas", optionalCount(s.TerminatingReplicas)})
				errs = append(errs, atMost(p, labeled, replicas)...)
				errs = append(errs, atMost(p, ready, replicas)...)
				errs = append(errs, atMost(p, available, replicas)...)
				return append(errs, atMost(p, available, ready)...)
			},
			Columns: append(append([]metav1.TableColumnDefinition{
				nameColumn,
				column("Desired", "integer", spec["replicas"]),
				column("Current", "integer", status["replicas"]),
				column("Ready", "integer", status["readyReplicas"]),
				ageColumn,
			}, templateColumns...), selectorColumn(spec["selector"])),
			Row: func(obj runtime.Object) []interface{} {
				rs := obj.(*appsv1.ReplicaSet)
				return append([]interface{}{rs.Name, int64(ptr.Deref(rs.Spec.Replicas, 0)), int64(rs.Status.Replicas),
					int64(rs.Status.ReadyReplicas), age(rs.CreationTimestamp)}, workloadCells(&rs.Spec.Template, rs.Spec.Selector, true)...)
			},
			Fields: func(obj runtime.Object) fields.Set {
				return fields.Set{"status.replicas": strconv.Itoa(int(obj.(*appsv1.ReplicaSet).Status.Replicas))}
			},
		},
	}
}
