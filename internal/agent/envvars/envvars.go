// Package envvars resolves a container's environment the way the kubelet
// does: literal values with $(VAR) expansion, fieldRef, resourceFieldRef,
// configMapKeyRef, secretKeyRef and envFrom.
//
// The order is the kubelet's: envFrom sources first (each source's keys in
// sorted order, a later source overriding an earlier one), then env in
// declaration order, overriding envFrom. A literal value may refer to any
// variable defined before it with $(NAME) (see Expand). Service link
// variables, when the caller passes them to ResolveWithServices, come last and
// only for names not already defined.
//
// The errors Resolve returns are meant for users: the agent shows them as the
// message of a CreateContainerConfigError, so they carry the kubelet's wording
// (`configmap "cfg" not found`, `couldn't find key k in ConfigMap ns/cfg`)
// rather than a package prefix.
package envvars

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Source looks up the objects that env vars refer to.
type Source interface {
	ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error)
	Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
}

// Resolve returns the container's environment in the order the kubelet
// builds it. pod.Status.PodIP/PodIPs/HostIP must already be filled in for
// the status.* field references. nodeAllocatable is used for
// resourceFieldRef when the container sets no limit. The error names what is
// missing (for example `couldn't find key k in ConfigMap ns/name`) and is
// what the agent shows as CreateContainerConfigError.
func Resolve(ctx context.Context, pod *corev1.Pod, c *corev1.Container, src Source, nodeAllocatable corev1.ResourceList) ([]*runtimeapi.KeyValue, error) {
	return ResolveWithServices(ctx, pod, c, src, nodeAllocatable, nil)
}

// ResolveWithServices is Resolve with service link variables (see
// ServiceEnv): they can be referred to with $(NAME) and are appended, sorted
// by name, after the container's own variables unless those define the name.
func ResolveWithServices(ctx context.Context, pod *corev1.Pod, c *corev1.Container, src Source, nodeAllocatable corev1.ResourceList, services map[string]string) ([]*runtimeapi.KeyValue, error) {
	r := &resolver{pod: pod, c: c, alloc: nodeAllocatable, services: services}
	r.configMap = func(name string) (*corev1.ConfigMap, error) {
		if src == nil {
			return nil, fmt.Errorf("couldn't get configMap %s/%s, no source defined", pod.Namespace, name)
		}
		return src.ConfigMap(ctx, pod.Namespace, name)
	}
	r.secret = func(name string) (*corev1.Secret, error) {
		if src == nil {
			return nil, fmt.Errorf("couldn't get secret %s/%s, no source defined", pod.Namespace, name)
		}
		return src.Secret(ctx, pod.Namespace, name)
	}
	return r.resolve()
}

// ResolveLocal resolves what needs no lookups: literal values (with
// expansion), fieldRef and resourceFieldRef. Variables from envFrom,
// configMapKeyRef and secretKeyRef are left out. The volumes package uses it
// to expand subPathExpr when it is not given the full environment.
func ResolveLocal(pod *corev1.Pod, c *corev1.Container, nodeAllocatable corev1.ResourceList) ([]*runtimeapi.KeyValue, error) {
	r := &resolver{pod: pod, c: c, alloc: nodeAllocatable}
	return r.resolve()
}

// resolver holds one resolution; nil lookups mean "leave such vars out".
type resolver struct {
	pod      *corev1.Pod
	c        *corev1.Container
	alloc    corev1.ResourceList
	services map[string]string

	configMap func(name string) (*corev1.ConfigMap, error)
	secret    func(name string) (*corev1.Secret, error)

	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret

	order []string
	vals  map[string]string
}

func (r *resolver) set(name, value string) {
	if _, ok := r.vals[name]; !ok {
		r.order = append(r.order, name)
	}
	r.vals[name] = value
}

func (r *resolver) lookup(name string) (string, bool) {
	if v, ok := r.vals[name]; ok {
		return v, true
	}
	v, ok := r.services[name]
	return v, ok
}

func (r *resolver) resolve() ([]*runtimeapi.KeyValue, error) {
	r.vals = map[string]string{}
	r.configMaps = map[string]*corev1.ConfigMap{}
	r.secrets = map[string]*corev1.Secret{}
	if err := r.envFrom(); err != nil {
		return nil, err
	}
	for i := range r.c.Env {
		e := &r.c.Env[i]
		v, ok, err := r.value(e)
		if err != nil {
			return nil, err
		}
		if ok {
			r.set(e.Name, v)
		}
	}
	out := make([]*runtimeapi.KeyValue, 0, len(r.order)+len(r.services))
	for _, k := range r.order {
		out = append(out, &runtimeapi.KeyValue{Key: k, Value: r.vals[k]})
	}
	for _, k := range slices.Sorted(maps.Keys(r.services)) {
		if _, ok := r.vals[k]; !ok {
			out = append(out, &runtimeapi.KeyValue{Key: k, Value: r.services[k]})
		}
	}
	return out, nil
}

// envFrom adds every key of the envFrom sources, in order.
func (r *resolver) envFrom() error {
	for _, from := range r.c.EnvFrom {
		var data map[string]string
		switch {
		case from.ConfigMapRef != nil && r.configMap != nil:
			cm, err := r.getConfigMap(from.ConfigMapRef.Name, isTrue(from.ConfigMapRef.Optional))
			if err != nil {
				return err
			}
			if cm == nil {
				continue // optional and missing
			}
			data = cm.Data
		case from.SecretRef != nil && r.secret != nil:
			s, err := r.getSecret(from.SecretRef.Name, isTrue(from.SecretRef.Optional))
			if err != nil {
				return err
			}
			if s == nil {
				continue // optional and missing
			}
			data = make(map[string]string, len(s.Data))
			for k, v := range s.Data {
				data[k] = string(v)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(data)) {
			name := from.Prefix + k
			// Since 1.34 (relaxed env var names) the kubelet passes every key
			// through; skip only what cannot be written as NAME=VALUE.
			if name == "" || strings.ContainsAny(name, "=\x00") {
				continue
			}
			r.set(name, data[k])
		}
	}
	return nil
}

// value computes one env entry; ok is false when an optional reference is
// missing, which leaves the variable out.
func (r *resolver) value(e *corev1.EnvVar) (string, bool, error) {
	if e.Value != "" || e.ValueFrom == nil {
		return Expand(e.Value, r.lookup), true, nil
	}
	from := e.ValueFrom
	switch {
	case from.FieldRef != nil:
		v, err := FieldValue(r.pod, from.FieldRef.APIVersion, from.FieldRef.FieldPath)
		return v, err == nil, err
	case from.ResourceFieldRef != nil:
		v, err := ResourceValue(r.pod, r.c, from.ResourceFieldRef, r.alloc)
		return v, err == nil, err
	case from.ConfigMapKeyRef != nil:
		if r.configMap == nil {
			return "", false, nil
		}
		ref := from.ConfigMapKeyRef
		optional := isTrue(ref.Optional)
		cm, err := r.getConfigMap(ref.Name, optional)
		if err != nil || cm == nil {
			return "", false, err
		}
		if v, ok := cm.Data[ref.Key]; ok {
			return v, true, nil
		}
		if optional {
			return "", false, nil
		}
		return "", false, fmt.Errorf("couldn't find key %s in ConfigMap %s/%s", ref.Key, r.pod.Namespace, ref.Name)
	case from.SecretKeyRef != nil:
		if r.secret == nil {
			return "", false, nil
		}
		ref := from.SecretKeyRef
		optional := isTrue(ref.Optional)
		s, err := r.getSecret(ref.Name, optional)
		if err != nil || s == nil {
			return "", false, err
		}
		if v, ok := s.Data[ref.Key]; ok {
			return string(v), true, nil
		}
		if optional {
			return "", false, nil
		}
		return "", false, fmt.Errorf("couldn't find key %s in Secret %s/%s", ref.Key, r.pod.Namespace, ref.Name)
	}
	// fileKeyRef (the alpha EnvFiles feature) is not supported; like a
	// kubelet with the feature off, the variable is set to "".
	return "", true, nil
}

// getConfigMap fetches (once) a ConfigMap; a missing optional one is nil.
func (r *resolver) getConfigMap(name string, optional bool) (*corev1.ConfigMap, error) {
	if cm, ok := r.configMaps[name]; ok {
		return cm, nil
	}
	cm, err := r.configMap(name)
	if err != nil {
		return nil, LookupError(err, "configmap", r.pod.Namespace, name, optional)
	}
	r.configMaps[name] = cm
	return cm, nil
}

// getSecret fetches (once) a Secret; a missing optional one is nil.
func (r *resolver) getSecret(name string, optional bool) (*corev1.Secret, error) {
	if s, ok := r.secrets[name]; ok {
		return s, nil
	}
	s, err := r.secret(name)
	if err != nil {
		return nil, LookupError(err, "secret", r.pod.Namespace, name, optional)
	}
	r.secrets[name] = s
	return s, nil
}

// LookupError turns the error of getting a ConfigMap or Secret (kind
// "configmap" or "secret") into the kubelet's: nil for a missing optional
// object, `configmap "x" not found` for a missing one, `couldn't get …`
// for any other failure. The agent's configMap and secret volumes use it
// too.
func LookupError(err error, kind, namespace, name string, optional bool) error {
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("couldn't get %s %s/%s: %w", kind, namespace, name, err)
	}
	if optional {
		return nil
	}
	return apierrors.NewNotFound(schema.GroupResource{Resource: kind}, name)
}

func isTrue(b *bool) bool { return b != nil && *b }
