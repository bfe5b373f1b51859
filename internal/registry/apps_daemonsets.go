package registry

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// daemonSets run one pod per node. Like upstream, each template change
// raises the template generation, which apps/v1 shows in the
// deprecated.daemonset.template.generation annotation.
func daemonSets() Resource {
	status := appsv1.DaemonSetStatus{}.SwaggerDoc()
	return Resource{
		Kind: gvk(appsGV, "DaemonSet"), Name: "daemonsets", Singular: "daemonset",
		ShortNames: []string{"ds"}, Categories: []string{"all"}, Namespaced: true,
		Subresources: []string{"status"},
		Strategy: Strategy{
			HasStatus: true, Generation: true,
			Default: func(obj runtime.Object) { defaultDaemonSet(obj.(*appsv1.DaemonSet)) },
			PrepareForCreate: func(obj runtime.Object) {
				ds := obj.(*appsv1.DaemonSet)
				ds.Status = appsv1.DaemonSetStatus{}
				setTemplateGeneration(ds, 1)
			},
			PrepareForUpdate: func(obj, old runtime.Object) {
				n, o := obj.(*appsv1.DaemonSet), old.(*appsv1.DaemonSet)
				gen, _ := strconv.ParseInt(o.Annotations[appsv1.DeprecatedTemplateGeneration], 10, 64)
				if !apiequality.Semantic.DeepEqual(n.Spec.Template, o.Spec.Template) {
					gen++
				}
				setTemplateGeneration(n, gen)
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateDaemonSetSpec(&obj.(*appsv1.DaemonSet).Spec, field.NewPath("spec"))
			},
			ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
				return selectorImmutable(obj.(*appsv1.DaemonSet).Spec.Selector, old.(*appsv1.DaemonSet).Spec.Selector)
			},
			ValidateStatusUpdate: func(obj, old runtime.Object) field.ErrorList {
				s := &obj.(*appsv1.DaemonSet).Status
				errs := validateCounts(field.NewPath("status"),
					statusCount{"currentNumberScheduled", int64(s.CurrentNumberScheduled)},
					statusCount{"numberMisscheduled", int64(s.NumberMisscheduled)},
					statusCount{"desiredNumberScheduled", int64(s.DesiredNumberScheduled)},
					statusCount{"numberReady", int64(s.NumberReady)},
					statusCount{"observedGeneration", s.ObservedGeneration},
					statusCount{"updatedNumberScheduled", int64(s.UpdatedNumberScheduled)},
					statusCount{"numberAvailable", int64(s.NumberAvailable)},
					statusCount{"numberUnavailable", int64(s.NumberUnavailable)},
					statusCount{"collisionCount", optionalCount(s.CollisionCount)})
				return append(errs, collisionCountNotDecremented(s.CollisionCount, old.(*appsv1.DaemonSet).Status.CollisionCount)...)
			},
			Columns: append(append([]metav1.TableColumnDefinition{
				nameColumn,
				column("Desired", "integer", status["desiredNumberScheduled"]),
				column("Current", "integer", status["currentNumberScheduled"]),
				column("Ready", "integer", status["numberReady"]),
				column("Up-to-date", "integer", status["updatedNumberScheduled"]),
				column("Available", "integer", status["numberAvailable"]),
				column("Node Selector", "string", corev1.PodSpec{}.SwaggerDoc()["nodeSelector"]),
				ageColumn,
			}, templateColumns...), selectorColumn(appsv1.DaemonSetSpec{}.SwaggerDoc()["selector"])),
			Row: func(obj runtime.Object) []interface{} {
				ds := obj.(*appsv1.DaemonSet)
				s := ds.Status
				return append([]interface{}{ds.Name, int64(s.DesiredNumberScheduled), int64(s.CurrentNumberScheduled),
					int64(s.NumberReady), int64(s.UpdatedNumberScheduled), int64(s.NumberAvailable),
					orNone(labels.FormatLabels(ds.Spec.Template.Spec.NodeSelector)), age(ds.CreationTimestamp)},
					workloadCells(&ds.Spec.Template, ds.Spec.Selector, true)...)
			},
		},
	}
}

func setTemplateGeneration(ds *appsv1.DaemonSet, gen int64) {
	if ds.Annotations == nil {
		ds.Annotations = map[string]string{}
	}
	ds.Annotations[appsv1.DeprecatedTemplateGeneration] = strconv.FormatInt(gen, 10)
}

func defaultDaemonSet(ds *appsv1.DaemonSet) {
	u := &ds.Spec.UpdateStrategy
	if u.Type == "" {
		u.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if u.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if u.RollingUpdate == nil {
			u.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		if u.RollingUpdate.MaxUnavailable == nil {
			u.RollingUpdate.MaxUnavailable = ptr.To(intstr.FromInt32(1))
		}
		if u.RollingUpdate.MaxSurge == nil {
			u.RollingUpdate.MaxSurge = ptr.To(intstr.FromInt32(0))
		}
	}
	if ds.Spec.RevisionHistoryLimit == nil {
		ds.Spec.RevisionHistoryLimit = ptr.To[int32](10)
	}
	defaultPodTemplateSpec(&ds.Spec.Template)
}

func validateDaemonSetSpec(s *appsv1.DaemonSetSpec, p *field.Path) field.ErrorList {
	errs := validateSelectorMatchesTemplate(s.Selector, s.Template.Labels, p, "daemonset")
	tp := p.Child("template")
	errs = append(errs, validatePodTemplateSpec(&s.Template, tp)...)
	if s.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(tp.Child("spec", "restartPolicy"), s.Template.Spec.RestartPolicy,
			[]string{string(corev1.RestartPolicyAlways)}))
	}
	if d := s.Template.Spec.ActiveDeadlineSeconds; d != nil {
		errs = append(errs, field.Invalid(tp.Child("spec", "activeDeadlineSeconds"), *d, "activeDeadlineSeconds in DaemonSet is not Supported"))
	}
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.MinReadySeconds), p.Child("minReadySeconds"))...)
	if s.RevisionHistoryLimit != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.RevisionHistoryLimit), p.Child("revisionHistoryLimit"))...)
	}

	up := p.Child("updateStrategy")
	switch s.UpdateStrategy.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
	case appsv1.RollingUpdateDaemonSetStrategyType:
		ru := s.UpdateStrategy.RollingUpdate
		if ru == nil {
			return append(errs, field.Required(up.Child("rollingUpdate"), ""))
		}
		rp := up.Child("rollingUpdate")
		maxUnavailable, maxSurge := ptr.Deref(ru.MaxUnavailable, intstr.FromInt32(0)), ptr.Deref(ru.MaxSurge, intstr.FromInt32(0))
		errs = append(errs, validateIntOrPercent(maxUnavailable, rp.Child("maxUnavailable"))...)
		errs = append(errs, validateIntOrPercent(maxSurge, rp.Child("maxSurge"))...)
		errs = append(errs, notMoreThan100Percent(maxUnavailable, rp.Child("maxUnavailable"))...)
		errs = append(errs, notMoreThan100Percent(maxSurge, rp.Child("maxSurge"))...)
		hasUnavailable, hasSurge := intOrPercentValue(&maxUnavailable) != 0, intOrPercentValue(&maxSurge) != 0
		switch {
		case hasUnavailable && hasSurge:
			errs = append(errs, field.Invalid(rp.Child("maxSurge"), maxSurge, "may not be set when maxUnavailable is non-zero"))
		case !hasUnavailable && !hasSurge:
			errs = append(errs, field.Required(rp.Child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
		}
	default:
		errs = append(errs, field.NotSupported(up, s.UpdateStrategy, []string{
			string(appsv1.RollingUpdateDaemonSetStrategyType), string(appsv1.OnDeleteDaemonSetStrategyType)}))
	}
	return errs
}
