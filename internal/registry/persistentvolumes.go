package registry

import (
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// betaStorageClassAnnotation is the annotation that named a volume's or a
// claim's class before storageClassName existed; kubectl still honours it.
const betaStorageClassAnnotation = "volume.beta.kubernetes.io/storage-class"

func persistentVolumes() Resource {
	return Resource{
		Kind:         gvk(core, "PersistentVolume"),
		Name:         "persistentvolumes",
		Singular:     "persistentvolume",
		ShortNames:   []string{"pv"},
		Subresources: []string{"status"},
		ValidName:    func(name string, prefix bool) []string { return path.IsValidPathSegmentName(name) },
		Strategy: Strategy{
			HasStatus: true,
			Default: func(obj runtime.Object) {
				pv := obj.(*corev1.PersistentVolume)
				if pv.Spec.PersistentVolumeReclaimPolicy == "" {
					pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
				}
				if pv.Spec.VolumeMode == nil {
					pv.Spec.VolumeMode = ptr.To(corev1.PersistentVolumeFilesystem)
				}
			},
			PrepareForCreate: func(obj runtime.Object) {
				now := metav1.Now()
				obj.(*corev1.PersistentVolume).Status = corev1.PersistentVolumeStatus{
					Phase: corev1.VolumePending, LastPhaseTransitionTime: &now}
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				return validatePersistentVolume(obj.(*corev1.PersistentVolume))
			},
			ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
				n, o := obj.(*corev1.PersistentVolume), old.(*corev1.PersistentVolume)
				var errs field.ErrorList
				if !equality.Semantic.DeepEqual(n.Spec.PersistentVolumeSource, o.Spec.PersistentVolumeSource) {
					errs = append(errs, field.Forbidden(field.NewPath("spec", "persistentvolumesource"), "spec.persistentvolumesource is immutable after creation"))
				}
				if !equality.Semantic.DeepEqual(n.Spec.VolumeMode, o.Spec.VolumeMode) {
					errs = append(errs, field.Invalid(field.NewPath("volumeMode"), n.Spec.VolumeMode, "field is immutable"))
				}
				if o.Spec.NodeAffinity != nil && !equality.Semantic.DeepEqual(n.Spec.NodeAffinity, o.Spec.NodeAffinity) {
					errs = append(errs, field.Invalid(field.NewPath("nodeAffinity"), n.Spec.NodeAffinity, "field is immutable"))
				}
				return errs
			},
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				column("Capacity", "string", corev1.PersistentVolumeSpec{}.SwaggerDoc()["capacity"]),
				column("Access Modes", "string", corev1.PersistentVolumeSpec{}.SwaggerDoc()["accessModes"]),
				column("Reclaim Policy", "string", corev1.PersistentVolumeSpec{}.SwaggerDoc()["persistentVolumeReclaimPolicy"]),
				column("Status", "string", corev1.PersistentVolumeStatus{}.SwaggerDoc()["phase"]),
				column("Claim", "string", corev1.PersistentVolumeSpec{}.SwaggerDoc()["claimRef"]),
				column("StorageClass", "string", "StorageClass of the pv"),
				column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
				column("Reason", "string", corev1.PersistentVolumeStatus{}.SwaggerDoc()["reason"]),
				ageColumn,
				wideColumn("VolumeMode", "string", corev1.PersistentVolumeSpec{}.SwaggerDoc()["volumeMode"]),
			},
			Row: func(obj runtime.Object) []interface{} { return persistentVolumeRow(obj.(*corev1.PersistentVolume)) },
		},
	}
}

func persistentVolumeRow(pv *corev1.PersistentVolume) []interface{} {
	claim := ""
	if r := pv.Spec.ClaimRef; r != nil {
		claim = r.Namespace + "/" + r.Name
	}
	capacity := pv.Spec.Capacity[corev1.ResourceStorage]
	phase := string(pv.Status.Phase)
	if pv.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	class := pv.Spec.StorageClassName
	if a, ok := pv.Annotations[betaStorageClassAnnotation]; ok {
		class = a
	}
	return []interface{}{pv.Name, capacity.String(), accessModesString(pv.Spec.AccessModes),
		string(pv.Spec.PersistentVolumeReclaimPolicy), phase, claim, class,
		unsetOr(pv.Spec.VolumeAttributesClassName), pv.Status.Reason, age(pv.CreationTimestamp),
		unsetOr((*string)(pv.Spec.VolumeMode))}
}

func unsetOr(s *string) string {
	if s == nil {
		return "<unset>"
	}
	return *s
}

// accessModesString abbreviates access modes as kubectl does: RWO, ROX,
// RWX, RWOP, in that order.
func accessModesString(modes []corev1.PersistentVolumeAccessMode) string {
	var out []string
	for _, m := range []struct {
		mode  corev1.PersistentVolumeAccessMode
		short string
	}{{corev1.ReadWriteOnce, "RWO"}, {corev1.ReadOnlyMany, "ROX"}, {corev1.ReadWriteMany, "RWX"}, {corev1.ReadWriteOncePod, "RWOP"}} {
		for _, have := range modes {
			if have == m.mode {
				out = append(out, m.short)
				break
			}
		}
	}
	return strings.Join(out, ",")
}

func validateAccessModes(modes []corev1.PersistentVolumeAccessMode, p *field.Path, required string) field.ErrorList {
	var errs field.ErrorList
	if len(modes) == 0 {
		errs = append(errs, field.Required(p, required))
	}
	for _, m := range modes {
		switch m {
		case corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany:
		case corev1.ReadWriteOncePod:
			if len(modes) > 1 {
				errs = append(errs, field.Forbidden(p, "may not use ReadWriteOncePod with other access modes"))
			}
		default:
			errs = append(errs, field.NotSupported(p, m, []string{string(corev1.ReadWriteOnce), string(corev1.ReadOnlyMany),
				string(corev1.ReadWriteMany), string(corev1.ReadWriteOncePod)}))
		}
	}
	return errs
}

func validateVolumeMode(m *corev1.PersistentVolumeMode, p *field.Path) field.ErrorList {
	if m == nil {
		return nil
	}
	return oneOf(p, string(*m), string(corev1.PersistentVolumeBlock), string(corev1.PersistentVolumeFilesystem))
}

func validatePersistentVolume(pv *corev1.PersistentVolume) field.ErrorList {
	s := &pv.Spec
	sp := field.NewPath("spec")
	errs := validateAccessModes(s.AccessModes, sp.Child("accessModes"), "")
	storage, ok := s.Capacity[corev1.ResourceStorage]
	switch {
	case len(s.Capacity) == 0:
		errs = append(errs, field.Required(sp.Child("capacity"), ""))
	case !ok || len(s.Capacity) > 1:
		errs = append(errs, field.NotSupported(sp.Child("capacity"), s.Capacity, []string{string(corev1.ResourceStorage)}))
	case storage.Sign() <= 0:
		errs = append(errs, field.Invalid(sp.Child("capacity").Key(string(corev1.ResourceStorage)), storage.String(), "must be greater than zero"))
	}
	errs = append(errs, oneOf(sp.Child("persistentVolumeReclaimPolicy"), string(s.PersistentVolumeReclaimPolicy),
		string(corev1.PersistentVolumeReclaimDelete), string(corev1.PersistentVolumeReclaimRecycle), string(corev1.PersistentVolumeReclaimRetain))...)
	if s.StorageClassName != "" {
		errs = append(errs, invalidEach(sp.Child("storageClassName"), s.StorageClassName, validation.IsDNS1123Subdomain(s.StorageClassName))...)
	}
	errs = append(errs, validateVolumeMode(s.VolumeMode, sp.Child("volumeMode"))...)

	// Exactly one volume source, found by reflection: every source is a
	// pointer field of PersistentVolumeSource.
	var sources []string
	v := reflect.ValueOf(s.PersistentVolumeSource)
	for i := range v.NumField() {
		if !v.Field(i).IsNil() {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
			sources = append(sources, name)
		}
	}
	if len(sources) == 0 {
		errs = append(errs, field.Required(sp, "must specify a volume type"))
	}
	for _, extra := range sources[min(1, len(sources)):] {
		errs = append(errs, field.Forbidden(sp.Child(extra), "may not specify more than 1 volume type"))
	}
	switch {
	case s.HostPath != nil && s.HostPath.Path == "":
		errs = append(errs, field.Required(sp.Child("hostPath", "path"), ""))
	case s.Local != nil:
		if s.Local.Path == "" {
			errs = append(errs, field.Required(sp.Child("local", "path"), ""))
		}
		if s.NodeAffinity == nil {
			errs = append(errs, field.Required(sp.Child("nodeAffinity"), "Local volume requires node affinity"))
		}
	case s.CSI != nil:
		if s.CSI.Driver == "" {
			errs = append(errs, field.Required(sp.Child("csi", "driver"), ""))
		}
		if s.CSI.VolumeHandle == "" {
			errs = append(errs, field.Required(sp.Child("csi", "volumeHandle"), ""))
		}
	}
	return errs
}

func persistentVolumeClaims() Resource {
	return Resource{
		Kind:         gvk(core, "PersistentVolumeClaim"),
		Name:         "persistentvolumeclaims",
		Singular:     "persistentvolumeclaim",
		ShortNames:   []string{"pvc"},
		Namespaced:   true,
		Subresources: []string{"status"},
		Strategy: Strategy{
			HasStatus: true,
			Default: func(obj runtime.Object) {
				if s := &obj.(*corev1.PersistentVolumeClaim).Spec; s.VolumeMode == nil {
					s.VolumeMode = ptr.To(corev1.PersistentVolumeFilesystem)
				}
			},
			PrepareForCreate: func(obj runtime.Object) {
				obj.(*corev1.PersistentVolumeClaim).Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateClaimSpec(&obj.(*corev1.PersistentVolumeClaim).Spec, field.NewPath("spec"))
			},
			ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
				return validateClaimUpdate(obj.(*corev1.PersistentVolumeClaim), old.(*corev1.PersistentVolumeClaim))
			},
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				column("Status", "string", corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["phase"]),
				column("Volume", "string", corev1.PersistentVolumeClaimSpec{}.SwaggerDoc()["volumeName"]),
				column("Capacity", "string", corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["capacity"]),
				column("Access Modes", "string", corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()["accessModes"]),
				column("StorageClass", "string", "StorageClass of the pvc"),
				column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
				ageColumn,
				wideColumn("VolumeMode", "string", corev1.PersistentVolumeClaimSpec{}.SwaggerDoc()["volumeMode"]),
			},
			Row: func(obj runtime.Object) []interface{} { return claimRow(obj.(*corev1.PersistentVolumeClaim)) },
		},
	}
}

func claimRow(c *corev1.PersistentVolumeClaim) []interface{} {
	phase := string(c.Status.Phase)
	if c.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	capacity, modes := "", ""
	if c.Spec.VolumeName != "" {
		modes = accessModesString(c.Status.AccessModes)
		q := c.Status.Capacity[corev1.ResourceStorage]
		capacity = q.String()
	}
	class := ""
	if a, ok := c.Annotations[betaStorageClassAnnotation]; ok {
		class = a
	} else if c.Spec.StorageClassName != nil {
		class = *c.Spec.StorageClassName
	}
	return []interface{}{c.Name, phase, c.Spec.VolumeName, capacity, modes, class,
		unsetOr(c.Status.CurrentVolumeAttributesClassName), age(c.CreationTimestamp),
		unsetOr((*string)(c.Spec.VolumeMode))}
}

// validateClaimSpec checks a claim's spec; it is also the spec of the
// volume claim templates of StatefulSets and ephemeral volumes.
func validateClaimSpec(s *corev1.PersistentVolumeClaimSpec, p *field.Path) field.ErrorList {
	errs := validateAccessModes(s.AccessModes, p.Child("accessModes"), "at least 1 access mode is required")
	storagePath := p.Child("resources").Key(string(corev1.ResourceStorage))
	if q, ok := s.Resources.Requests[corev1.ResourceStorage]; !ok {
		errs = append(errs, field.Required(storagePath, ""))
	} else if q.Sign() <= 0 {
		errs = append(errs, field.Invalid(storagePath, q.String(), "must be greater than zero"))
	}
	if c := s.StorageClassName; c != nil && *c != "" {
		errs = append(errs, invalidEach(p.Child("storageClassName"), *c, validation.IsDNS1123Subdomain(*c))...)
	}
	if s.Selector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(s.Selector, metav1validation.LabelSelectorValidationOptions{}, p.Child("selector"))...)
	}
	return append(errs, validateVolumeMode(s.VolumeMode, p.Child("volumeMode"))...)
}

// validateClaimUpdate keeps a claim's spec immutable except for setting
// volumeName once and, on bound claims, changing the storage request (not
// below the current capacity) and the volume attributes class.
func validateClaimUpdate(n, old *corev1.PersistentVolumeClaim) field.ErrorList {
	var errs field.ErrorList
	newSpec, oldSpec := n.Spec.DeepCopy(), old.Spec.DeepCopy()
	if oldSpec.VolumeName == "" {
		oldSpec.VolumeName = newSpec.VolumeName
	}
	if oldSpec.StorageClassName == nil && old.Annotations[betaStorageClassAnnotation] == "" {
		oldSpec.StorageClassName = newSpec.StorageClassName
	}
	bound := old.Status.Phase == corev1.ClaimBound
	if bound {
		if newSpec.Resources.Requests != nil {
			if q, ok := oldSpec.Resources.Requests[corev1.ResourceStorage]; ok {
				newSpec.Resources.Requests[corev1.ResourceStorage] = q
			}
		}
		newSpec.VolumeAttributesClassName = oldSpec.VolumeAttributesClassName
	}
	if !equality.Semantic.DeepEqual(newSpec, oldSpec) {
		errs = append(errs, field.Forbidden(field.NewPath("spec"),
			"spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"))
	}
	newSize := n.Spec.Resources.Requests[corev1.ResourceStorage]
	oldSize := old.Spec.Resources.Requests[corev1.ResourceStorage]
	if bound && newSize.Cmp(oldSize) < 0 {
		if status, ok := old.Status.Capacity[corev1.ResourceStorage]; !ok || newSize.Cmp(status) <= 0 {
			errs = append(errs, field.Forbidden(field.NewPath("spec", "resources", "requests", "storage"), "field can not be less than status.capacity"))
		}
	}
	if !equality.Semantic.DeepEqual(n.Spec.VolumeMode, old.Spec.VolumeMode) {
		errs = append(errs, field.Invalid(field.NewPath("volumeMode"), n.Spec.VolumeMode, "field is immutable"))
	}
	return errs
}
