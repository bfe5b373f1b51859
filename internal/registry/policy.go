package registry

import (
	policyv1 "k8s.io/api/policy/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// podDisruptionBudgets are policy/v1 PodDisruptionBudgets; the disruption
// controller writes their status.
func podDisruptionBudgets() Resource {
	return Resource{
		Kind: gvk(policyv1.SchemeGroupVersion, "PodDisruptionBudget"), Name: "poddisruptionbudgets",
		Singular: "poddisruptionbudget", ShortNames: []string{"pdb"}, Namespaced: true,
		Subresources: []string{"status"},
		Strategy: Strategy{
			HasStatus: true, Generation: true,
			PrepareForCreate: func(obj runtime.Object) {
				obj.(*policyv1.PodDisruptionBudget).Status = policyv1.PodDisruptionBudgetStatus{}
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				return validatePDBSpec(&obj.(*policyv1.PodDisruptionBudget).Spec, field.NewPath("spec"))
			},
			ValidateStatusUpdate: func(obj, _ runtime.Object) field.ErrorList {
				s := &obj.(*policyv1.PodDisruptionBudget).Status
				p := field.NewPath("status")
				errs := metav1validation.ValidateConditions(s.Conditions, p.Child("conditions"))
				errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.DisruptionsAllowed), p.Child("disruptionsAllowed"))...)
				errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.CurrentHealthy), p.Child("currentHealthy"))...)
				errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.DesiredHealthy), p.Child("desiredHealthy"))...)
				return append(errs, apivalidation.ValidateNonnegativeField(int64(s.ExpectedPods), p.Child("expectedPods"))...)
			},
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				column("Min Available", "string", "The minimum number of pods that must be available."),
				column("Max Unavailable", "string", "The maximum number of pods that may be unavailable."),
				column("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
				ageColumn,
			},
			Row: func(obj runtime.Object) []interface{} {
				b := obj.(*policyv1.PodDisruptionBudget)
				minAvail, maxUnavail := "N/A", "N/A"
				if b.Spec.MinAvailable != nil {
					minAvail = b.Spec.MinAvailable.String()
				}
				if b.Spec.MaxUnavailable != nil {
					maxUnavail = b.Spec.MaxUnavailable.String()
				}
				return []interface{}{b.Name, minAvail, maxUnavail, int64(b.Status.DisruptionsAllowed), age(b.CreationTimestamp)}
			},
		},
	}
}

func validatePDBSpec(s *policyv1.PodDisruptionBudgetSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.MinAvailable != nil && s.MaxUnavailable != nil {
		errs = append(errs, field.Invalid(p, s, "minAvailable and maxUnavailable cannot be both set"))
	}
	if s.MinAvailable != nil {
		errs = append(errs, validateIntOrPercent(*s.MinAvailable, p.Child("minAvailable"))...)
		errs = append(errs, notMoreThan100Percent(*s.MinAvailable, p.Child("minAvailable"))...)
	}
	if s.MaxUnavailable != nil {
		errs = append(errs, validateIntOrPercent(*s.MaxUnavailable, p.Child("maxUnavailable"))...)
		errs = append(errs, notMoreThan100Percent(*s.MaxUnavailable, p.Child("maxUnavailable"))...)
	}
	errs = append(errs, metav1validation.ValidateLabelSelector(s.Selector, metav1validation.LabelSelectorValidationOptions{}, p.Child("selector"))...)
	if s.UnhealthyPodEvictionPolicy != nil {
		errs = append(errs, oneOf(p.Child("unhealthyPodEvictionPolicy"), string(*s.UnhealthyPodEvictionPolicy),
			string(policyv1.AlwaysAllow), string(policyv1.IfHealthyBudget))...)
	}
	return errs
}
