package discovery

import (
	"slices"

	authenticationv1 "k8s.io/api/authentication/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"skiff.dev/internal/registry"
)

// allVerbs are the verbs of a resource whose registry entry lists none,
// sorted as upstream reports them.
var allVerbs = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}

// Subresource reports what subresource name of r answers, as upstream
// discovery does: the kind of its request or response body and its verbs
// (sorted). Subresources skiff does not know default to the parent's kind
// with get, patch and update, the shape of a status subresource.
func Subresource(r registry.Resource, name string) (schema.GroupVersionKind, []string) {
	core := corev1.SchemeGroupVersion
	getPatchUpdate := []string{"get", "patch", "update"}
	connect := []string{"create", "get"}
	proxy := []string{"create", "delete", "get", "patch", "update"}
	switch name {
	case "scale":
		return autoscalingv1.SchemeGroupVersion.WithKind("Scale"), getPatchUpdate
	case "binding":
		return core.WithKind("Binding"), []string{"create"}
	case "eviction":
		return policyv1.SchemeGroupVersion.WithKind("Eviction"), []string{"create"}
	case "token":
		return authenticationv1.SchemeGroupVersion.WithKind("TokenRequest"), []string{"create"}
	case "log":
		return r.Kind, []string{"get"}
	case "exec":
		return core.WithKind("PodExecOptions"), connect
	case "attach":
		return core.WithKind("PodAttachOptions"), connect
	case "portforward":
		return core.WithKind("PodPortForwardOptions"), connect
	case "proxy":
		return core.WithKind(r.Kind.Kind + "ProxyOptions"), proxy
	case "finalize":
		return r.Kind, []string{"update"}
	}
	return r.Kind, getPatchUpdate
}

// verbs returns the sorted verbs of r's main resource.
func verbs(r registry.Resource) []string {
	if len(r.Verbs) == 0 {
		return allVerbs
	}
	v := slices.Clone(r.Verbs)
	slices.Sort(v)
	return v
}
