package registry

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func serviceAccounts() Resource {
	return Resource{
		Kind:       gvk(core, "ServiceAccount"),
		Name:       "serviceaccounts",
		Singular:   "serviceaccount",
		ShortNames: []string{"sa"},
		Namespaced: true,
		Strategy: Strategy{
			Validate: func(obj runtime.Object) field.ErrorList {
				sa := obj.(*corev1.ServiceAccount)
				var errs field.ErrorList
				for i, s := range sa.ImagePullSecrets {
					if s.Name == "" {
						errs = append(errs, field.Required(field.NewPath("imagePullSecrets").Index(i).Child("name"), ""))
					}
				}
				for i, s := range sa.Secrets {
					if s.Name != "" {
						errs = append(errs, invalidEach(field.NewPath("secrets").Index(i).Child("name"), s.Name, validation.IsDNS1123Subdomain(s.Name))...)
					}
				}
				return errs
			},
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				column("Secrets", "string", corev1.ServiceAccount{}.SwaggerDoc()["secrets"]),
				ageColumn,
			},
			Row: func(obj runtime.Object) []interface{} {
				sa := obj.(*corev1.ServiceAccount)
				return []interface{}{sa.Name, int64(len(sa.Secrets)), age(sa.CreationTimestamp)}
			},
		},
	}
}
