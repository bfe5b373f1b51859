package registry

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// Priorities as upstream's scheduling API defines them.
const (
	// highestUserPriority is the largest value a user-defined class may have;
	// larger ones are kept for the system classes.
	highestUserPriority = 1000000000
	// systemCriticalPriority is the value of system-cluster-critical.
	systemCriticalPriority = 2 * highestUserPriority
	systemPriorityPrefix   = "system-"
)

// systemPriorityClasses are the classes the API server creates itself, the
// only ones whose names may start with "system-".
var systemPriorityClasses = map[string]int32{
	"system-node-critical":    systemCriticalPriority + 1000,
	"system-cluster-critical": systemCriticalPriority,
}

// priorityClasses are scheduling.k8s.io PriorityClasses. At most one class
// should be the global default; upstream enforces that in an admission
// plugin, not in the strategy.
func priorityClasses() Resource {
	doc := schedulingv1.PriorityClass{}.SwaggerDoc()
	return Resource{
		Kind: gvk(schedulingv1.SchemeGroupVersion, "PriorityClass"), Name: "priorityclasses", Singular: "priorityclass",
		ShortNames: []string{"pc"},
		Strategy: Strategy{
			Default: func(obj runtime.Object) {
				pc := obj.(*schedulingv1.PriorityClass)
				if pc.PreemptionPolicy == nil {
					pc.PreemptionPolicy = ptr.To(corev1.PreemptLowerPriority)
				}
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				return validatePriorityClass(obj.(*schedulingv1.PriorityClass))
			},
			ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
				n, o := obj.(*schedulingv1.PriorityClass), old.(*schedulingv1.PriorityClass)
				var errs field.ErrorList
				if n.Value != o.Value {
					errs = append(errs, field.Forbidden(field.NewPath("value"), "may not be changed in an update."))
				}
				if ptr.Deref(n.PreemptionPolicy, "") != ptr.Deref(o.PreemptionPolicy, "") {
					errs = append(errs, field.Invalid(field.NewPath("preemptionPolicy"), n.PreemptionPolicy, "field is immutable"))
				}
				return errs
			},
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				column("Value", "integer", doc["value"]),
				column("Global-Default", "boolean", doc["globalDefault"]),
				ageColumn,
				column("PreemptionPolicy", "string", doc["preemptionPolicy"]),
			},
			Row: func(obj runtime.Object) []interface{} {
				pc := obj.(*schedulingv1.PriorityClass)
				return []interface{}{pc.Name, int64(pc.Value), pc.GlobalDefault, age(pc.CreationTimestamp),
					string(ptr.Deref(pc.PreemptionPolicy, ""))}
			},
		},
	}
}

func validatePriorityClass(pc *schedulingv1.PriorityClass) field.ErrorList {
	var errs field.ErrorList
	if strings.HasPrefix(pc.Name, systemPriorityPrefix) {
		if msg := checkSystemPriorityClass(pc); msg != "" {
			errs = append(errs, field.Forbidden(field.NewPath("metadata", "name"),
				"priority class names with '"+systemPriorityPrefix+"' prefix are reserved for system use only. error: "+msg))
		}
	} else if pc.Value > highestUserPriority {
		errs = append(errs, field.Forbidden(field.NewPath("value"),
			fmt.Sprintf("maximum allowed value of a user defined priority is %v", highestUserPriority)))
	}
	if pc.PreemptionPolicy != nil {
		errs = append(errs, oneOf(field.NewPath("preemptionPolicy"), string(*pc.PreemptionPolicy),
			string(corev1.PreemptLowerPriority), string(corev1.PreemptNever))...)
	}
	return errs
}

// checkSystemPriorityClass explains why pc is not one of the system classes,
// or returns "" when it is.
func checkSystemPriorityClass(pc *schedulingv1.PriorityClass) string {
	v, ok := systemPriorityClasses[pc.Name]
	switch {
	case !ok:
		return fmt.Sprintf("%v is not a known system priority class", pc.Name)
	case v != pc.Value:
		return fmt.Sprintf("value of %v PriorityClass must be %v", pc.Name, v)
	case pc.GlobalDefault:
		return fmt.Sprintf("globalDefault of %v PriorityClass must be false", pc.Name)
	}
	return ""
}
