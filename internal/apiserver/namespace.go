package apiserver

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// immortalNamespaces may not be deleted: upstream's NamespaceLifecycle
// list (kube-node-lease, though created at start, may be).
var immortalNamespaces = []string{"default", "kube-system", "kube-public"}

var namespacesGR = schema.GroupResource{Resource: "namespaces"}

// finalized reports whether nothing but metadata finalizers holds back the
// object's removal: a namespace also waits for its spec.finalizers.
func (h *resource) finalized(obj runtime.Object) bool {
	if ns, ok := obj.(*corev1.Namespace); ok {
		return len(ns.Spec.Finalizers) == 0
	}
	return true
}

// onDeleting is called when an object is first marked for deletion.
func (h *resource) onDeleting(obj runtime.Object) {
	if ns, ok := obj.(*corev1.Namespace); ok {
		ns.Status.Phase = corev1.NamespaceTerminating
	}
}

// admitCreate is the admission chain for creates. NamespaceLifecycle:
// no new objects in a namespace that is missing or being terminated.
func (s *Server) admitCreate(ctx context.Context, h *resource, obj runtime.Object) error {
	if !h.res.Namespaced {
		return nil
	}
	m, _ := meta.Accessor(obj)
	ns, err := s.namespace(ctx, m.GetNamespace())
	if err != nil {
		return err
	}
	if ns.Status.Phase == corev1.NamespaceTerminating || ns.DeletionTimestamp != nil {
		err := apierrors.NewForbidden(h.gr, m.GetName(), fmt.Errorf("unable to create new content in namespace %s because it is being terminated", ns.Name))
		err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Type: corev1.NamespaceTerminatingCause,
			Message: fmt.Sprintf("namespace %s is being terminated", ns.Name), Field: "metadata.namespace"})
		return err
	}
	s.admitTolerations(obj)
	return nil
}

// admitUpdate is the admission chain for updates.
func (s *Server) admitUpdate(ctx context.Context, h *resource, obj, old runtime.Object) error {
	return nil
}

// admitDelete refuses to delete the system namespaces.
func (s *Server) admitDelete(h *resource, name string) error {
	if h.gr == namespacesGR {
		for _, n := range immortalNamespaces {
			if n == name {
				return apierrors.NewForbidden(h.gr, name, errors.New("this namespace may not be deleted"))
			}
		}
	}
	return nil
}

// namespace finds a namespace in the cache, or in the store when the cache
// has not seen it yet.
func (s *Server) namespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	h := s.resource("", "v1", "namespaces")
	if h == nil {
		return &corev1.Namespace{}, nil
	}
	if obj, _, ok := h.cache.Get(h.key("", name)); ok {
		return obj.(*corev1.Namespace), nil
	}
	obj, _, err := h.load(ctx, "", name)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, apierrors.NewNotFound(namespacesGR, name)
		}
		return nil, err
	}
	return obj.(*corev1.Namespace), nil
}
