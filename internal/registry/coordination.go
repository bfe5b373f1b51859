package registry

import (
	"strings"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// leases are the coordination.k8s.io Leases used for leader election and
// node heartbeats.
func leases() Resource {
	return Resource{
		Kind: gvk(coordinationv1.SchemeGroupVersion, "Lease"), Name: "leases", Singular: "lease",
		Namespaced: true,
		Strategy: Strategy{
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateLeaseSpec(&obj.(*coordinationv1.Lease).Spec, field.NewPath("spec"))
			},
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				column("Holder", "string", coordinationv1.LeaseSpec{}.SwaggerDoc()["holderIdentity"]),
				ageColumn,
			},
			Row: func(obj runtime.Object) []interface{} {
				l := obj.(*coordinationv1.Lease)
				holder := ""
				if l.Spec.HolderIdentity != nil {
					holder = *l.Spec.HolderIdentity
				}
				return []interface{}{l.Name, holder, age(l.CreationTimestamp)}
			},
		},
	}
}

func validateLeaseSpec(s *coordinationv1.LeaseSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.LeaseDurationSeconds != nil && *s.LeaseDurationSeconds <= 0 {
		errs = append(errs, field.Invalid(p.Child("leaseDurationSeconds"), *s.LeaseDurationSeconds, "must be greater than 0"))
	}
	if s.LeaseTransitions != nil && *s.LeaseTransitions < 0 {
		errs = append(errs, field.Invalid(p.Child("leaseTransitions"), *s.LeaseTransitions, "must be greater than or equal to 0"))
	}
	if s.Strategy != nil {
		sp := p.Child("strategy")
		st := string(*s.Strategy)
		switch {
		case !strings.Contains(st, "/"):
			if *s.Strategy != coordinationv1.OldestEmulationVersion {
				errs = append(errs, field.NotSupported(sp, st, []string{string(coordinationv1.OldestEmulationVersion)}))
			}
		default:
			errs = append(errs, validation.IsDomainPrefixedPath(sp, st)...)
		}
	}
	if s.PreferredHolder != nil && *s.PreferredHolder != "" && (s.Strategy == nil || *s.Strategy == "") {
		errs = append(errs, field.Forbidden(p.Child("preferredHolder"), "may only be specified if `strategy` is defined"))
	}
	return errs
}
