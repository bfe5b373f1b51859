package registry

import (
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

func deployments() Resource {
	status := appsv1.DeploymentStatus{}.SwaggerDoc()
	return Resource{
		Kind: gvk(appsGV, "Deployment"), Name: "deployments", Singular: "deployment",
		ShortNames: []string{"deploy"}, Categories: []string{"all"}, Namespaced: true,
		Subresources: []string{"status", "scale"},
		Strategy: Strategy{
			HasStatus: true, Generation: true,
			Default: func(obj runtime.Object) { defaultDeployment(obj.(*appsv1.Deployment)) },
			PrepareForCreate: func(obj runtime.Object) {
				obj.(*appsv1.Deployment).Status = appsv1.DeploymentStatus{}
			},
			PrepareForUpdate: func(obj, old runtime.Object) {
				// Annotations are copied to the replica sets, so changing them
				// is a new generation too, as upstream counts it.
				n, o := obj.(*appsv1.Deployment), old.(*appsv1.Deployment)
				if reflect.DeepEqual(n.Spec, o.Spec) && !reflect.DeepEqual(n.Annotations, o.Annotations) {
					n.Generation = o.Generation + 1
				}
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateDeploymentSpec(&obj.(*appsv1.Deployment).Spec, field.NewPath("spec"))
			},
			ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
				return selectorImmutable(obj.(*appsv1.Deployment).Spec.Selector, old.(*appsv1.Deployment).Spec.Selector)
			},
			ValidateStatusUpdate: func(obj, old runtime.Object) field.ErrorList {
				s := &obj.(*appsv1.Deployment).Status
				p := field.NewPath("status")
				replicas, ready := statusCount{"replicas", int64(s.Replicas)}, statusCount{"readyReplicas", int64(s.ReadyReplicas)}
				updated, available := statusCount{"updatedReplicas", int64(s.UpdatedReplicas)}, statusCount{"availableReplicas", int64(s.AvailableReplicas)}
				errs := validateCounts(p, statusCount{"observedGeneration", s.ObservedGeneration}, replicas, updated, ready, available,
					statusCount{"unavailableReplicas", int64(s.UnavailableReplicas)},
					statusCount{"terminatingReplicas", optionalCount(s.TerminatingReplicas)},
					statusCount{"collisionCount", optionalCount(s.CollisionCount)})
				errs = append(errs, atMost(p, updated, replicas)...)
				errs = append(errs, atMost(p, ready, replicas)...)
				errs = append(errs, atMost(p, available, replicas)...)
				errs = append(errs, atMost(p, available, ready)...)
				return append(errs, collisionCountNotDecremented(s.CollisionCount, old.(*appsv1.Deployment).Status.CollisionCount)...)
			},
			Columns: append(append([]metav1.TableColumnDefinition{
				nameColumn,
				column("Ready", "string", "Number of the pod with ready state"),
				column("Up-to-date", "string", status["updatedReplicas"]),
				column("Available", "string", status["availableReplicas"]),
				ageColumn,
			}, templateColumns...), selectorColumn(appsv1.DeploymentSpec{}.SwaggerDoc()["selector"])),
			Row: func(obj runtime.Object) []interface{} {
				d := obj.(*appsv1.Deployment)
				ready := fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, ptr.Deref(d.Spec.Replicas, 0))
				return append([]interface{}{d.Name, ready, int64(d.Status.UpdatedReplicas), int64(d.Status.AvailableReplicas),
					age(d.CreationTimestamp)}, workloadCells(&d.Spec.Template, d.Spec.Selector, true)...)
			},
		},
	}
}

func defaultDeployment(d *appsv1.Deployment) {
	s := &d.Spec
	if s.Replicas == nil {
		s.Replicas = ptr.To[int32](1)
	}
	if s.Strategy.Type == "" {
		s.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if s.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if s.Strategy.RollingUpdate == nil {
			s.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		if s.Strategy.RollingUpdate.MaxUnavailable == nil {
			s.Strategy.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromString("25%"))
		}
		if s.Strategy.RollingUpdate.MaxSurge == nil {
			s.Strategy.RollingUpdate.MaxSurge = ptr.To(intstr.FromString("25%"))
		}
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = ptr.To[int32](10)
	}
	if s.ProgressDeadlineSeconds == nil {
		s.ProgressDeadlineSeconds = ptr.To[int32](600)
	}
	defaultPodTemplateSpec(&s.Template)
}

func validateDeploymentSpec(s *appsv1.DeploymentSpec, p *field.Path) field.ErrorList {
	errs := apivalidation.ValidateNonnegativeField(int64(ptr.Deref(s.Replicas, 0)), p.Child("replicas"))
	errs = append(errs, validateSelectorMatchesTemplate(s.Selector, s.Template.Labels, p, "deployment")...)
	errs = append(errs, validateAlwaysRestartTemplate(&s.Template, p.Child("template"), "ReplicaSet")...)

	sp := p.Child("strategy")
	switch s.Strategy.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if s.Strategy.RollingUpdate != nil {
			errs = append(errs, field.Forbidden(sp.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
		}
	case appsv1.RollingUpdateDeploymentStrategyType:
		ru := s.Strategy.RollingUpdate
		if ru == nil {
			errs = append(errs, field.Required(sp.Child("rollingUpdate"), "this should be defaulted and never be nil"))
			break
		}
		rp := sp.Child("rollingUpdate")
		maxUnavailable, maxSurge := ptr.Deref(ru.MaxUnavailable, intstr.FromInt32(0)), ptr.Deref(ru.MaxSurge, intstr.FromInt32(0))
		errs = append(errs, validateIntOrPercent(maxUnavailable, rp.Child("maxUnavailable"))...)
		errs = append(errs, validateIntOrPercent(maxSurge, rp.Child("maxSurge"))...)
		if intOrPercentValue(&maxUnavailable) == 0 && intOrPercentValue(&maxSurge) == 0 {
			errs = append(errs, field.Invalid(rp.Child("maxUnavailable"), maxUnavailable, "may not be 0 when `maxSurge` is 0"))
		}
		errs = append(errs, notMoreThan100Percent(maxUnavailable, rp.Child("maxUnavailable"))...)
	default:
		errs = append(errs, field.NotSupported(sp, s.Strategy, []string{
			string(appsv1.RecreateDeploymentStrategyType), string(appsv1.RollingUpdateDeploymentStrategyType)}))
	}

	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.MinReadySeconds), p.Child("minReadySeconds"))...)
	if s.RevisionHistoryLimit != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.RevisionHistoryLimit), p.Child("revisionHistoryLimit"))...)
	}
	if d := s.ProgressDeadlineSeconds; d != nil {
		errs = append(errs, positiveField(int64(*d), p.Child("progressDeadlineSeconds"))...)
		if *d <= s.MinReadySeconds {
			errs = append(errs, field.Invalid(p.Child("progressDeadlineSeconds"), *d, "must be greater than minReadySeconds"))
		}
	}
	return errs
}
