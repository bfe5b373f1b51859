package registry

import (
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// The annotations that mark the default StorageClass (the beta one is still
// honoured upstream).
const (
	defaultStorageClassAnnotation     = "storageclass.kubernetes.io/is-default-class"
	betaDefaultStorageClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
)

// Upstream's limits on StorageClass parameters.
const (
	maxStorageClassParameters    = 512
	maxStorageClassParameterSize = 256 * (1 << 10)
)

func storageClasses() Resource {
	doc := storagev1.StorageClass{}.SwaggerDoc()
	return Resource{
		Kind: gvk(storagev1.SchemeGroupVersion, "StorageClass"), Name: "storageclasses", Singular: "storageclass",
		ShortNames: []string{"sc"},
		Strategy: Strategy{
			Default: func(obj runtime.Object) {
				sc := obj.(*storagev1.StorageClass)
				if sc.ReclaimPolicy == nil {
					sc.ReclaimPolicy = ptr.To(corev1.PersistentVolumeReclaimDelete)
				}
				if sc.VolumeBindingMode == nil {
					sc.VolumeBindingMode = ptr.To(storagev1.VolumeBindingImmediate)
				}
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateStorageClass(obj.(*storagev1.StorageClass))
			},
			ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
				n, o := obj.(*storagev1.StorageClass), old.(*storagev1.StorageClass)
				var errs field.ErrorList
				if !reflect.DeepEqual(n.Parameters, o.Parameters) {
					errs = append(errs, field.Forbidden(field.NewPath("parameters"), "updates to parameters are forbidden."))
				}
				if n.Provisioner != o.Provisioner {
					errs = append(errs, field.Forbidden(field.NewPath("provisioner"), "updates to provisioner are forbidden."))
				}
				if ptr.Deref(n.ReclaimPolicy, "") != ptr.Deref(o.ReclaimPolicy, "") {
					errs = append(errs, field.Forbidden(field.NewPath("reclaimPolicy"), "updates to reclaimPolicy are forbidden."))
				}
				if ptr.Deref(n.VolumeBindingMode, "") != ptr.Deref(o.VolumeBindingMode, "") {
					errs = append(errs, field.Invalid(field.NewPath("volumeBindingMode"), n.VolumeBindingMode, "field is immutable"))
				}
				return errs
			},
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				column("Provisioner", "string", doc["provisioner"]),
				column("ReclaimPolicy", "string", doc["reclaimPolicy"]),
				column("VolumeBindingMode", "string", doc["volumeBindingMode"]),
				column("AllowVolumeExpansion", "string", doc["allowVolumeExpansion"]),
				ageColumn,
			},
			Row: func(obj runtime.Object) []interface{} {
				sc := obj.(*storagev1.StorageClass)
				name := sc.Name
				if isDefaultStorageClass(sc) {
					name += " (default)"
				}
				return []interface{}{name, sc.Provisioner,
					string(ptr.Deref(sc.ReclaimPolicy, corev1.PersistentVolumeReclaimDelete)),
					string(ptr.Deref(sc.VolumeBindingMode, storagev1.VolumeBindingImmediate)),
					ptr.Deref(sc.AllowVolumeExpansion, false), age(sc.CreationTimestamp)}
			},
		},
	}
}

// isDefaultStorageClass tells whether sc is annotated as the default class.
func isDefaultStorageClass(sc *storagev1.StorageClass) bool {
	return sc.Annotations[defaultStorageClassAnnotation] == "true" ||
		sc.Annotations[betaDefaultStorageClassAnnotation] == "true"
}

func validateStorageClass(sc *storagev1.StorageClass) field.ErrorList {
	var errs field.ErrorList
	pp := field.NewPath("provisioner")
	if sc.Provisioner == "" {
		errs = append(errs, field.Required(pp, ""))
	} else {
		errs = append(errs, invalidEach(pp, sc.Provisioner, validation.IsQualifiedName(strings.ToLower(sc.Provisioner)))...)
	}

	params := field.NewPath("parameters")
	if len(sc.Parameters) > maxStorageClassParameters {
		errs = append(errs, field.TooMany(params, len(sc.Parameters), maxStorageClassParameters))
	}
	size := 0
	for k, v := range sc.Parameters {
		if k == "" {
			errs = append(errs, field.Invalid(params, k, "field can not be empty."))
		}
		size += len(k) + len(v)
	}
	if size > maxStorageClassParameterSize {
		errs = append(errs, field.TooLong(params, "", maxStorageClassParameterSize))
	}

	if sc.ReclaimPolicy != nil {
		errs = append(errs, oneOf(field.NewPath("reclaimPolicy"), string(*sc.ReclaimPolicy),
			string(corev1.PersistentVolumeReclaimDelete), string(corev1.PersistentVolumeReclaimRetain))...)
	}
	mode := string(ptr.Deref(sc.VolumeBindingMode, ""))
	errs = append(errs, oneOf(field.NewPath("volumeBindingMode"), mode,
		string(storagev1.VolumeBindingImmediate), string(storagev1.VolumeBindingWaitForFirstConsumer))...)

	tp := field.NewPath("allowedTopologies")
	for i, t := range sc.AllowedTopologies {
		for j, e := range t.MatchLabelExpressions {
			ep := tp.Index(i).Child("matchLabelExpressions").Index(j)
			errs = append(errs, invalidEach(ep.Child("key"), e.Key, validation.IsQualifiedName(e.Key))...)
			if len(e.Values) == 0 {
				errs = append(errs, field.Required(ep.Child("values"), "must specify as least one value for the key"))
			}
		}
	}
	return errs
}
