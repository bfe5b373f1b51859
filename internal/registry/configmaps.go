package registry

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"maps"
	"slices"
)

func configMaps() Resource {
	return Resource{
		Kind:       gvk(core, "ConfigMap"),
		Name:       "configmaps",
		Singular:   "configmap",
		ShortNames: []string{"cm"},
		Namespaced: true,
		Strategy: Strategy{
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateConfigMap(obj.(*corev1.ConfigMap))
			},
			ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
				n, o := obj.(*corev1.ConfigMap), old.(*corev1.ConfigMap)
				if o.Immutable != nil && *o.Immutable {
					var errs field.ErrorList
					if !equalData(n, o) {
						errs = append(errs, field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set"))
					}
					if n.Immutable == nil || !*n.Immutable {
						errs = append(errs, field.Forbidden(field.NewPath("immutable"), "field is immutable when `immutable` is set"))
					}
					return errs
				}
				return nil
			},
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				{Name: "Data", Type: "integer", Description: "Number of keys in data and binaryData"},
				ageColumn,
			},
			Row: func(obj runtime.Object) []interface{} {
				cm := obj.(*corev1.ConfigMap)
				return []interface{}{cm.Name, int64(len(cm.Data) + len(cm.BinaryData)), age(cm.CreationTimestamp)}
			},
		},
	}
}

// maxDataSize is upstream's limit on the total size of a ConfigMap's or a
// Secret's data.
const maxDataSize = 1 << 20

func validateConfigMap(cm *corev1.ConfigMap) field.ErrorList {
	var errs field.ErrorList
	total := 0
	for _, k := range slices.Sorted(maps.Keys(cm.Data)) {
		v := cm.Data[k]
		errs = append(errs, validateDataKey(k, field.NewPath("data").Key(k))...)
		if _, dup := cm.BinaryData[k]; dup {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(k), k, "duplicate of key present in binaryData"))
		}
		total += len(v)
	}
	for _, k := range slices.Sorted(maps.Keys(cm.BinaryData)) {
		v := cm.BinaryData[k]
		errs = append(errs, validateDataKey(k, field.NewPath("binaryData").Key(k))...)
		total += len(v)
	}
	if total > maxDataSize {
		errs = append(errs, field.TooLong(field.NewPath("data"), "", maxDataSize))
	}
	return errs
}

func equalData(a, b *corev1.ConfigMap) bool {
	if len(a.Data) != len(b.Data) || len(a.BinaryData) != len(b.BinaryData) {
		return false
	}
	for k, v := range a.Data {
		if w, ok := b.Data[k]; !ok || v != w {
			return false
		}
	}
	for k, v := range a.BinaryData {
		if w, ok := b.BinaryData[k]; !ok || string(v) != string(w) {
			return false
		}
	}
	return true
}
