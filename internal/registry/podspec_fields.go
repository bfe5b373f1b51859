package registry

import (
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateVolumes checks pod volumes and returns the set of their names.
func validateVolumes(vs []corev1.Volume, p *field.Path) (sets.Set[string], field.ErrorList) {
	var errs field.ErrorList
	names := sets.New[string]()
	for i := range vs {
		v := &vs[i]
		vp := p.Index(i)
		switch {
		case v.Name == "":
			errs = append(errs, field.Required(vp.Child("name"), ""))
		case names.Has(v.Name):
			errs = append(errs, field.Duplicate(vp.Child("name"), v.Name))
		default:
			errs = append(errs, invalidEach(vp.Child("name"), v.Name, validation.IsDNS1123Label(v.Name))...)
		}
		names.Insert(v.Name)
		sources := volumeSources(&v.VolumeSource)
		if len(sources) == 0 {
			errs = append(errs, field.Required(vp, "must specify a volume type"))
		}
		for _, extra := range sources[min(1, len(sources)):] {
			errs = append(errs, field.Forbidden(vp.Child(extra), "may not specify more than 1 volume type"))
		}
		errs = append(errs, validateVolumeSource(&v.VolumeSource, vp)...)
	}
	return names, errs
}

func validateVolumeSource(v *corev1.VolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	required := func(value string, fp *field.Path) {
		if value == "" {
			errs = append(errs, field.Required(fp, ""))
		}
	}
	mode := func(m *int32, fp *field.Path) {
		if m != nil && (*m < 0 || *m > 0777) {
			errs = append(errs, field.Invalid(fp, *m, "must be a number between 0 and 0777 (octal), both inclusive"))
		}
	}
	items := func(ks []corev1.KeyToPath, fp *field.Path) {
		for i, k := range ks {
			required(k.Key, fp.Index(i).Child("key"))
			errs = append(errs, validateLocalPath(k.Path, fp.Index(i).Child("path"), true)...)
			mode(k.Mode, fp.Index(i).Child("mode"))
		}
	}
	switch {
	case v.HostPath != nil:
		required(v.HostPath.Path, p.Child("hostPath", "path"))
	case v.Secret != nil:
		required(v.Secret.SecretName, p.Child("secret", "secretName"))
		mode(v.Secret.DefaultMode, p.Child("secret", "defaultMode"))
		items(v.Secret.Items, p.Child("secret", "items"))
	case v.ConfigMap != nil:
		required(v.ConfigMap.Name, p.Child("configMap", "name"))
		mode(v.ConfigMap.DefaultMode, p.Child("configMap", "defaultMode"))
		items(v.ConfigMap.Items, p.Child("configMap", "items"))
	case v.PersistentVolumeClaim != nil:
		required(v.PersistentVolumeClaim.ClaimName, p.Child("persistentVolumeClaim", "claimName"))
	case v.DownwardAPI != nil:
		mode(v.DownwardAPI.DefaultMode, p.Child("downwardAPI", "defaultMode"))
		for i, f := range v.DownwardAPI.Items {
			errs = append(errs, validateLocalPath(f.Path, p.Child("downwardAPI", "items").Index(i).Child("path"), true)...)
		}
	case v.Projected != nil:
		mode(v.Projected.DefaultMode, p.Child("projected", "defaultMode"))
	case v.NFS != nil:
		required(v.NFS.Server, p.Child("nfs", "server"))
		required(v.NFS.Path, p.Child("nfs", "path"))
	case v.EmptyDir != nil:
		if l := v.EmptyDir.SizeLimit; l != nil && l.Sign() < 0 {
			errs = append(errs, field.Invalid(p.Child("emptyDir", "sizeLimit"), l.String(), "must be greater than or equal to 0"))
		}
	}
	return errs
}

// validateLocalPath checks a path that must stay inside a volume: relative,
// without "..". Paths under volumes must not be empty either.
func validateLocalPath(s string, p *field.Path, nonEmpty bool) field.ErrorList {
	var errs field.ErrorList
	if s == "" {
		if nonEmpty {
			errs = append(errs, field.Required(p, ""))
		}
		return errs
	}
	if path.IsAbs(s) {
		errs = append(errs, field.Invalid(p, s, "must be a relative path"))
	}
	for _, part := range strings.Split(s, "/") {
		if part == ".." {
			errs = append(errs, field.Invalid(p, s, "must not contain '..'"))
			break
		}
	}
	return errs
}

func validateVolumeMounts(ms []corev1.VolumeMount, volumes sets.Set[string], p *field.Path) field.ErrorList {
	var errs field.ErrorList
	paths := sets.New[string]()
	for i, m := range ms {
		mp := p.Index(i)
		if m.Name == "" {
			errs = append(errs, field.Required(mp.Child("name"), ""))
		} else if !volumes.Has(m.Name) {
			errs = append(errs, field.NotFound(mp.Child("name"), m.Name))
		}
		if m.MountPath == "" {
			errs = append(errs, field.Required(mp.Child("mountPath"), ""))
		} else if paths.Has(m.MountPath) {
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be unique"))
		}
		paths.Insert(m.MountPath)
		errs = append(errs, validateLocalPath(m.SubPath, mp.Child("subPath"), false)...)
		if m.SubPath != "" && m.SubPathExpr != "" {
			errs = append(errs, field.Invalid(mp.Child("subPathExpr"), m.SubPathExpr, "subPathExpr and subPath are mutually exclusive"))
		}
		if m.MountPropagation != nil {
			errs = append(errs, oneOf(mp.Child("mountPropagation"), string(*m.MountPropagation),
				string(corev1.MountPropagationBidirectional), string(corev1.MountPropagationHostToContainer), string(corev1.MountPropagationNone))...)
		}
	}
	return errs
}

// envFieldPaths are the pod fields an env var may read through fieldRef,
// besides metadata.labels['k'] and metadata.annotations['k'].
var envFieldPaths = []string{"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
	"spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"}

func validateEnv(env []corev1.EnvVar, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, e := range env {
		ep := p.Index(i)
		if e.Name == "" {
			errs = append(errs, field.Required(ep.Child("name"), ""))
		} else {
			errs = append(errs, invalidEach(ep.Child("name"), e.Name, validation.IsRelaxedEnvVarName(e.Name))...)
		}
		vf := e.ValueFrom
		if vf == nil {
			continue
		}
		vp := ep.Child("valueFrom")
		n := 0
		if f := vf.FieldRef; f != nil {
			n++
			fp := vp.Child("fieldRef")
			switch {
			case f.APIVersion == "":
				errs = append(errs, field.Required(fp.Child("apiVersion"), ""))
			case f.FieldPath == "":
				errs = append(errs, field.Required(fp.Child("fieldPath"), ""))
			case strings.HasPrefix(f.FieldPath, "metadata.labels[") || strings.HasPrefix(f.FieldPath, "metadata.annotations["):
			case !sets.New(envFieldPaths...).Has(f.FieldPath):
				errs = append(errs, field.NotSupported(fp.Child("fieldPath"), f.FieldPath, envFieldPaths))
			}
		}
		if r := vf.ResourceFieldRef; r != nil {
			n++
			if r.Resource == "" {
				errs = append(errs, field.Required(vp.Child("resourceFieldRef", "resource"), ""))
			}
		}
		if r := vf.ConfigMapKeyRef; r != nil {
			n++
			errs = append(errs, validateKeyRef(r.Key, vp.Child("configMapKeyRef", "key"))...)
		}
		if r := vf.SecretKeyRef; r != nil {
			n++
			errs = append(errs, validateKeyRef(r.Key, vp.Child("secretKeyRef", "key"))...)
		}
		if vf.FileKeyRef != nil {
			n++
		}
		switch {
		case e.Value != "" && n != 0:
			errs = append(errs, field.Invalid(vp, "", "may not be specified when `value` is not empty"))
		case n == 0:
			errs = append(errs, field.Invalid(vp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
		case n > 1:
			errs = append(errs, field.Invalid(vp, "", "may not have more than one field specified at a time"))
		}
	}
	return errs
}

func validateKeyRef(key string, p *field.Path) field.ErrorList {
	if key == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	return validateDataKey(key, p)
}

// overcommittable reports whether requests of a resource may be below its
// limit: cpu, memory and ephemeral storage. Hugepages and extended
// resources need requests equal to limits.
func overcommittable(name corev1.ResourceName) bool {
	return name == corev1.ResourceCPU || name == corev1.ResourceMemory || name == corev1.ResourceEphemeralStorage
}

func validateResources(r *corev1.ResourceRequirements, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	limPath, reqPath := p.Child("limits"), p.Child("requests")
	for _, name := range sortedResourceNames(r.Limits) {
		errs = append(errs, validateResourceQuantity(name, r.Limits[name], limPath.Key(string(name)))...)
	}
	for _, name := range sortedResourceNames(r.Requests) {
		q := r.Requests[name]
		errs = append(errs, validateResourceQuantity(name, q, reqPath.Key(string(name)))...)
		limit, ok := r.Limits[name]
		switch {
		case ok && !overcommittable(name) && q.Cmp(limit) != 0:
			errs = append(errs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be equal to %s limit of %s", name, limit.String())))
		case ok && q.Cmp(limit) > 0:
			errs = append(errs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
		case !ok && !overcommittable(name):
			errs = append(errs, field.Required(limPath, "Limit must be set for non overcommitable resources"))
		}
	}
	return errs
}

// validateResourceQuantity checks a container resource's name and amount.
func validateResourceQuantity(name corev1.ResourceName, q resource.Quantity, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := string(name)
	switch {
	case !strings.Contains(n, "/"):
		if !overcommittable(name) && !strings.HasPrefix(n, corev1.ResourceHugePagesPrefix) {
			errs = append(errs, field.Invalid(p, n, "must be a standard resource for containers"))
		}
	case strings.Contains(n, "kubernetes.io/") || strings.HasPrefix(n, corev1.DefaultResourceRequestsPrefix):
		errs = append(errs, field.Invalid(p, n, "doesn't follow extended resource name standard"))
	default:
		errs = append(errs, invalidEach(p, n, validation.IsQualifiedName(n))...)
	}
	if q.Sign() < 0 {
		errs = append(errs, field.Invalid(p, q.String(), "must be greater than or equal to 0"))
	}
	return errs
}
