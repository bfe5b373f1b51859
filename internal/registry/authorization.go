package registry

import (
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// selfSubjectAccessReviews answer "may I do this?" (kubectl auth can-i).
// They are never stored: the API server evaluates the review against its
// authorizer and returns it with its status filled in.
func selfSubjectAccessReviews() Resource {
	return Resource{
		Kind:     gvk(authorizationv1.SchemeGroupVersion, "SelfSubjectAccessReview"),
		Name:     "selfsubjectaccessreviews",
		Singular: "selfsubjectaccessreview",
		Verbs:    []string{"create"},
		Strategy: Strategy{
			Validate: func(obj runtime.Object) field.ErrorList {
				s := &obj.(*authorizationv1.SelfSubjectAccessReview).Spec
				p := field.NewPath("spec")
				switch {
				case s.ResourceAttributes != nil && s.NonResourceAttributes != nil:
					return field.ErrorList{field.Invalid(p.Child("nonResourceAttributes"), s.NonResourceAttributes,
						"cannot be specified in combination with resourceAttributes")}
				case s.ResourceAttributes == nil && s.NonResourceAttributes == nil:
					return field.ErrorList{field.Invalid(p.Child("resourceAttributes"), s.NonResourceAttributes,
						"exactly one of nonResourceAttributes or resourceAttributes must be specified")}
				}
				return nil
			},
		},
	}
}
