package registry

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func podTemplates() Resource {
	return Resource{
		Kind:       gvk(core, "PodTemplate"),
		Name:       "podtemplates",
		Singular:   "podtemplate",
		Namespaced: true,
		Strategy: Strategy{
			Default: func(obj runtime.Object) { defaultPodTemplateSpec(&obj.(*corev1.PodTemplate).Template) },
			// A PodTemplate has no spec: its generation follows the template.
			PrepareForCreate: func(obj runtime.Object) { obj.(*corev1.PodTemplate).Generation = 1 },
			PrepareForUpdate: func(obj, old runtime.Object) {
				n, o := obj.(*corev1.PodTemplate), old.(*corev1.PodTemplate)
				n.Generation = o.Generation
				if !equality.Semantic.DeepEqual(n.Template, o.Template) {
					n.Generation = o.Generation + 1
				}
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				return validatePodTemplateSpec(&obj.(*corev1.PodTemplate).Template, field.NewPath("template"))
			},
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				column("Containers", "string", "Names of each container in the template."),
				column("Images", "string", "Images referenced by each container in the template."),
				column("Pod Labels", "string", "The labels for the pod template."),
			},
			Row: func(obj runtime.Object) []interface{} {
				t := obj.(*corev1.PodTemplate)
				names, images := podSpecContainersAndImages(&t.Template.Spec)
				return []interface{}{t.Name, names, images, labels.FormatLabels(t.Template.Labels)}
			},
		},
	}
}
