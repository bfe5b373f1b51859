package garbagecollector

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// maxConflictRetries bounds the re-reads after a write lost a race.
const maxConflictRetries = 5

func (c *Controller) get(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (*metav1.PartialObjectMetadata, error) {
	return c.meta.Resource(gvr).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
}

// lookupOwner finds out, with a live read, what the owner a dependent in
// depNamespace refers to is. A namespaced owner lives in its dependent's
// namespace; a cluster-scoped dependent cannot have a namespaced owner.
// A kind the API server does not serve is an error: the dependent is kept
// and looked at again later.
func (c *Controller) lookupOwner(ctx context.Context, ref metav1.OwnerReference, depNamespace string) (ownerState, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return solid, fmt.Errorf("garbagecollector: owner reference %s: %w", ref.Name, err)
	}
	mapping, err := c.mapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: ref.Kind}, gv.Version)
	if err != nil {
		if meta.IsNoMatchError(err) {
			c.mapper.Reset()
		}
		return solid, fmt.Errorf("garbagecollector: owner kind %s: %w", ref.Kind, err)
	}
	namespace := ""
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		if depNamespace == "" {
			return dangling, nil
		}
		namespace = depNamespace
	}
	key := absentKey{uid: ref.UID, namespace: namespace}
	if c.absent.has(key) {
		return dangling, nil
	}
	owner, err := c.get(ctx, mapping.Resource, namespace, ref.Name)
	if apierrors.IsNotFound(err) || (err == nil && owner.UID != ref.UID) {
		c.absent.add(key)
		return dangling, nil
	}
	if err != nil {
		return solid, err
	}
	if owner.DeletionTimestamp != nil && slices.Contains(owner.Finalizers, metav1.FinalizerDeleteDependents) {
		return waiting, nil
	}
	return solid, nil
}

// patchMeta merge-patches fields of obj's metadata, on the condition that
// obj is still at the resourceVersion it was read at.
func (c *Controller) patchMeta(ctx context.Context, gvr schema.GroupVersionResource, obj *metav1.PartialObjectMetadata, fields map[string]any) error {
	fields["resourceVersion"] = obj.ResourceVersion
	fields["uid"] = obj.UID
	body, err := json.Marshal(map[string]any{"metadata": fields})
	if err != nil {
		return err
	}
	_, err = c.meta.Resource(gvr).Namespace(obj.Namespace).Patch(ctx, obj.Name, types.MergePatchType, body, metav1.PatchOptions{})
	return err
}

// delete deletes obj if it is still the object read (and, with
// checkVersion, unchanged since).
func (c *Controller) delete(ctx context.Context, gvr schema.GroupVersionResource, obj *metav1.PartialObjectMetadata, policy metav1.DeletionPropagation, checkVersion bool) error {
	pre := metav1.Preconditions{UID: &obj.UID}
	if checkVersion {
		pre.ResourceVersion = &obj.ResourceVersion
	}
	err := c.meta.Resource(gvr).Namespace(obj.Namespace).Delete(ctx, obj.Name,
		metav1.DeleteOptions{Preconditions: &pre, PropagationPolicy: &policy})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("garbagecollector: delete %s %s/%s: %w", gvr.Resource, obj.Namespace, obj.Name, err)
	}
	return nil
}

// removeFinalizer removes finalizer f from obj, re-reading after a
// conflict.
func (c *Controller) removeFinalizer(ctx context.Context, gvr schema.GroupVersionResource, obj *metav1.PartialObjectMetadata, f string) error {
	return c.retryOnConflict(ctx, gvr, obj, func(cur *metav1.PartialObjectMetadata) (map[string]any, bool) {
		if !slices.Contains(cur.Finalizers, f) {
			return nil, false
		}
		return map[string]any{"finalizers": nullIfEmpty(withoutFinalizer(cur.Finalizers, f))}, true
	})
}

// removeOwnerRef removes the reference to owner from a dependent.
func (c *Controller) removeOwnerRef(ctx context.Context, d dependent, owner types.UID) error {
	cur, err := c.get(ctx, d.resource, d.id.Namespace, d.id.Name)
	if apierrors.IsNotFound(err) || (err == nil && cur.UID != d.id.UID) {
		return nil
	}
	if err != nil {
		return err
	}
	return c.retryOnConflict(ctx, d.resource, cur, func(cur *metav1.PartialObjectMetadata) (map[string]any, bool) {
		rest := withoutOwners(cur.OwnerReferences, []types.UID{owner})
		if len(rest) == len(cur.OwnerReferences) {
			return nil, false
		}
		return map[string]any{"ownerReferences": nullIfEmpty(rest)}, true
	})
}

// retryOnConflict patches what change asks for, re-reading obj when the
// patch lost a race. change reports false when nothing is left to do. An
// object that is gone (or replaced) needs nothing.
func (c *Controller) retryOnConflict(ctx context.Context, gvr schema.GroupVersionResource, obj *metav1.PartialObjectMetadata,
	change func(*metav1.PartialObjectMetadata) (map[string]any, bool)) error {
	uid := obj.UID
	for attempt := 0; ; attempt++ {
		fields, ok := change(obj)
		if !ok {
			return nil
		}
		err := c.patchMeta(ctx, gvr, obj, fields)
		if err == nil || apierrors.IsNotFound(err) {
			return nil
		}
		if !apierrors.IsConflict(err) || attempt >= maxConflictRetries {
			return fmt.Errorf("garbagecollector: patch %s %s/%s: %w", gvr.Resource, obj.Namespace, obj.Name, err)
		}
		obj, err = c.get(ctx, gvr, obj.Namespace, obj.Name)
		if apierrors.IsNotFound(err) || (err == nil && obj.UID != uid) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// nullIfEmpty makes an empty list a JSON null, which a merge patch reads
// as "remove the field".
func nullIfEmpty[T any](list []T) any {
	if len(list) == 0 {
		return nil
	}
	return list
}
