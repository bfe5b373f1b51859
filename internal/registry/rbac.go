package registry

import (
	"fmt"
	"slices"
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// RBAC objects may be named like "system:controller:foo": upstream only asks
// their names to be valid path segments.
func rbacName(name string, prefix bool) []string { return path.ValidatePathSegmentName(name, prefix) }

var (
	roleColumns = []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Created At", Type: "date", Description: ageColumn.Description},
	}
	bindingColumns = []metav1.TableColumnDefinition{
		nameColumn,
		column("Role", "string", rbacv1.RoleBinding{}.SwaggerDoc()["roleRef"]),
		ageColumn,
		wideColumn("Users", "string", "Users in the binding"),
		wideColumn("Groups", "string", "Groups in the binding"),
		wideColumn("ServiceAccounts", "string", "ServiceAccounts in the binding"),
	}
)

func roles() Resource {
	return Resource{
		Kind: gvk(rbacv1.SchemeGroupVersion, "Role"), Name: "roles", Singular: "role",
		Namespaced: true, ValidName: rbacName,
		Strategy: Strategy{
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateRules(obj.(*rbacv1.Role).Rules, true)
			},
			Columns: roleColumns,
			Row: func(obj runtime.Object) []interface{} {
				r := obj.(*rbacv1.Role)
				return []interface{}{r.Name, createdAt(r.CreationTimestamp)}
			},
		},
	}
}

func clusterRoles() Resource {
	return Resource{
		Kind: gvk(rbacv1.SchemeGroupVersion, "ClusterRole"), Name: "clusterroles", Singular: "clusterrole",
		ValidName: rbacName,
		Strategy: Strategy{
			Validate: func(obj runtime.Object) field.ErrorList {
				r := obj.(*rbacv1.ClusterRole)
				errs := validateRules(r.Rules, false)
				if a := r.AggregationRule; a != nil {
					sp := field.NewPath("aggregationRule", "clusterRoleSelectors")
					if len(a.ClusterRoleSelectors) == 0 {
						errs = append(errs, field.Required(sp, "at least one clusterRoleSelector required if aggregationRule is non-nil"))
					}
					for i := range a.ClusterRoleSelectors {
						errs = append(errs, metav1validation.ValidateLabelSelector(&a.ClusterRoleSelectors[i],
							metav1validation.LabelSelectorValidationOptions{}, sp.Index(i))...)
					}
				}
				return errs
			},
			Columns: roleColumns,
			Row: func(obj runtime.Object) []interface{} {
				r := obj.(*rbacv1.ClusterRole)
				return []interface{}{r.Name, createdAt(r.CreationTimestamp)}
			},
		},
	}
}

func roleBindings() Resource {
	return Resource{
		Kind: gvk(rbacv1.SchemeGroupVersion, "RoleBinding"), Name: "rolebindings", Singular: "rolebinding",
		Namespaced: true, ValidName: rbacName,
		Strategy: Strategy{
			Default: func(obj runtime.Object) {
				b := obj.(*rbacv1.RoleBinding)
				defaultBinding(&b.RoleRef, b.Subjects)
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				b := obj.(*rbacv1.RoleBinding)
				return validateBinding(b.RoleRef, b.Subjects, true)
			},
			ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
				return validateRoleRefUpdate(obj.(*rbacv1.RoleBinding).RoleRef, old.(*rbacv1.RoleBinding).RoleRef)
			},
			Columns: bindingColumns,
			Row: func(obj runtime.Object) []interface{} {
				b := obj.(*rbacv1.RoleBinding)
				return bindingRow(&b.ObjectMeta, b.RoleRef, b.Subjects)
			},
		},
	}
}

func clusterRoleBindings() Resource {
	return Resource{
		Kind: gvk(rbacv1.SchemeGroupVersion, "ClusterRoleBinding"), Name: "clusterrolebindings", Singular: "clusterrolebinding",
		ValidName: rbacName,
		Strategy: Strategy{
			Default: func(obj runtime.Object) {
				b := obj.(*rbacv1.ClusterRoleBinding)
				defaultBinding(&b.RoleRef, b.Subjects)
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				b := obj.(*rbacv1.ClusterRoleBinding)
				return validateBinding(b.RoleRef, b.Subjects, false)
			},
			ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
				return validateRoleRefUpdate(obj.(*rbacv1.ClusterRoleBinding).RoleRef, old.(*rbacv1.ClusterRoleBinding).RoleRef)
			},
			Columns: bindingColumns,
			Row: func(obj runtime.Object) []interface{} {
				b := obj.(*rbacv1.ClusterRoleBinding)
				return bindingRow(&b.ObjectMeta, b.RoleRef, b.Subjects)
			},
		},
	}
}

// createdAt renders the Created At column of roles.
func createdAt(t metav1.Time) string { return t.UTC().Format(time.RFC3339) }

// validateRules checks policy rules: every rule needs verbs, and either
// resources with API groups or non-resource URLs (cluster roles only).
func validateRules(rules []rbacv1.PolicyRule, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	for i, r := range rules {
		p := field.NewPath("rules").Index(i)
		if len(r.Verbs) == 0 {
			errs = append(errs, field.Required(p.Child("verbs"), "verbs must contain at least one value"))
		}
		if len(r.NonResourceURLs) > 0 {
			if namespaced {
				errs = append(errs, field.Invalid(p.Child("nonResourceURLs"), r.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
			}
			if len(r.APIGroups) > 0 || len(r.Resources) > 0 || len(r.ResourceNames) > 0 {
				errs = append(errs, field.Invalid(p.Child("nonResourceURLs"), r.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
			}
			continue
		}
		if len(r.APIGroups) == 0 {
			errs = append(errs, field.Required(p.Child("apiGroups"), "resource rules must supply at least one api group"))
		}
		if len(r.Resources) == 0 {
			errs = append(errs, field.Required(p.Child("resources"), "resource rules must supply at least one resource"))
		}
	}
	return errs
}

// defaultBinding fills in the API groups of the role reference and of the
// subjects, as upstream's rbac/v1 defaults do.
func defaultBinding(ref *rbacv1.RoleRef, subjects []rbacv1.Subject) {
	if ref.APIGroup == "" {
		ref.APIGroup = rbacv1.GroupName
	}
	for i := range subjects {
		s := &subjects[i]
		if s.APIGroup == "" && (s.Kind == rbacv1.UserKind || s.Kind == rbacv1.GroupKind) {
			s.APIGroup = rbacv1.GroupName
		}
	}
}

// validateBinding checks a binding's role reference and subjects. Role
// bindings may reference a Role or a ClusterRole; cluster role bindings only
// a ClusterRole, and their service account subjects need a namespace.
func validateBinding(ref rbacv1.RoleRef, subjects []rbacv1.Subject, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	rp := field.NewPath("roleRef")
	if ref.APIGroup != rbacv1.GroupName {
		errs = append(errs, field.NotSupported(rp.Child("apiGroup"), ref.APIGroup, []string{rbacv1.GroupName}))
	}
	kinds := []string{"ClusterRole"}
	if namespaced {
		kinds = []string{"Role", "ClusterRole"}
	}
	if !slices.Contains(kinds, ref.Kind) {
		errs = append(errs, field.NotSupported(rp.Child("kind"), ref.Kind, kinds))
	}
	if ref.Name == "" {
		errs = append(errs, field.Required(rp.Child("name"), ""))
	} else {
		errs = append(errs, invalidEach(rp.Child("name"), ref.Name, path.IsValidPathSegmentName(ref.Name))...)
	}
	for i, s := range subjects {
		errs = append(errs, validateSubject(s, namespaced, field.NewPath("subjects").Index(i))...)
	}
	return errs
}

func validateSubject(s rbacv1.Subject, namespaced bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	}
	switch s.Kind {
	case rbacv1.ServiceAccountKind:
		if s.Name != "" {
			errs = append(errs, invalidEach(p.Child("name"), s.Name, apivalidation.NameIsDNSSubdomain(s.Name, false))...)
		}
		if s.APIGroup != "" {
			errs = append(errs, field.NotSupported(p.Child("apiGroup"), s.APIGroup, []string{""}))
		}
		if !namespaced && s.Namespace == "" {
			errs = append(errs, field.Required(p.Child("namespace"), ""))
		}
	case rbacv1.UserKind, rbacv1.GroupKind:
		if s.APIGroup != rbacv1.GroupName {
			errs = append(errs, field.NotSupported(p.Child("apiGroup"), s.APIGroup, []string{rbacv1.GroupName}))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("kind"), s.Kind,
			[]string{rbacv1.ServiceAccountKind, rbacv1.UserKind, rbacv1.GroupKind}))
	}
	return errs
}

func validateRoleRefUpdate(ref, old rbacv1.RoleRef) field.ErrorList {
	if ref != old {
		return field.ErrorList{field.Invalid(field.NewPath("roleRef"), ref, "cannot change roleRef")}
	}
	return nil
}

func bindingRow(m *metav1.ObjectMeta, ref rbacv1.RoleRef, subjects []rbacv1.Subject) []interface{} {
	var users, groups, sas []string
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			users = append(users, s.Name)
		case rbacv1.GroupKind:
			groups = append(groups, s.Name)
		case rbacv1.ServiceAccountKind:
			sas = append(sas, s.Namespace+"/"+s.Name)
		}
	}
	return []interface{}{m.Name, fmt.Sprintf("%s/%s", ref.Kind, ref.Name), age(m.CreationTimestamp),
		strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(sas, ", ")}
}
