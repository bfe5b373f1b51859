package registry

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var core = corev1.SchemeGroupVersion

// All returns every resource skiff serves, in discovery order: core/v1
// first, then the named groups.
func All() []Resource {
	return append(coreResources(), groupResources()...)
}

func gvk(gv schema.GroupVersion, kind string) schema.GroupVersionKind {
	return gv.WithKind(kind)
}
