package garbagecollector

import (
	"context"
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// syncDelete looks at one node of the graph: a virtual owner is checked
// against the API server; an owner in foreground deletion finishes once
// nothing blocks it; a dependent is kept, stripped of dead references or
// deleted as decide says.
func (c *Controller) syncDelete(ctx context.Context, uid types.UID) error {
	s, ok := c.snapshot(uid)
	if !ok {
		return nil
	}
	if s.virtual {
		return c.checkVirtual(ctx, s)
	}
	latest, err := c.get(ctx, s.resource, s.id.Namespace, s.id.Name)
	if apierrors.IsNotFound(err) || (err == nil && latest.UID != uid) {
		// Gone before its informer said so: treat it as deleted.
		c.absent.add(absentKey{uid: uid, namespace: s.id.Namespace})
		c.apply(func(g *graph) work { return g.remove(uid) })
		return nil
	}
	if err != nil {
		return err
	}
	if latest.DeletionTimestamp != nil {
		if !slices.Contains(latest.Finalizers, metav1.FinalizerDeleteDependents) {
			return nil // already going; nothing to decide
		}
		return c.finishForeground(ctx, s, latest)
	}
	if len(latest.OwnerReferences) == 0 {
		return nil
	}
	states := map[types.UID]ownerState{}
	for _, ref := range latest.OwnerReferences {
		st, err := c.lookupOwner(ctx, ref, latest.Namespace)
		if err != nil {
			return err
		}
		states[ref.UID] = st
	}
	a := decide(latest.OwnerReferences, states, c.hasDependents(uid), latest.Finalizers)
	switch a.kind {
	case removeRefs:
		c.log.Info("removing references to deleted owners", "resource", s.resource.String(),
			"namespace", latest.Namespace, "name", latest.Name, "owners", a.remove)
		err := c.patchMeta(ctx, s.resource, latest, map[string]any{
			"ownerReferences": nullIfEmpty(withoutOwners(latest.OwnerReferences, a.remove))})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("garbagecollector: remove owner references from %s/%s: %w", latest.Namespace, latest.Name, err)
		}
		return nil
	case deleteObject:
		checkVersion := true
		if len(a.unblock) > 0 {
			err := c.patchMeta(ctx, s.resource, latest, map[string]any{
				"ownerReferences": unblocked(latest.OwnerReferences, a.unblock)})
			if apierrors.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("garbagecollector: unblock owners of %s/%s: %w", latest.Namespace, latest.Name, err)
			}
			checkVersion = false
		}
		c.log.Info("deleting dependent", "resource", s.resource.String(), "namespace", latest.Namespace,
			"name", latest.Name, "propagationPolicy", a.policy)
		return c.delete(ctx, s.resource, latest, a.policy, checkVersion)
	}
	return nil
}

// checkVirtual verifies an owner that dependents name but no informer has
// shown: gone, it leaves the graph and its dependents are looked at.
func (c *Controller) checkVirtual(ctx context.Context, s snapshot) error {
	ref := metav1.OwnerReference{APIVersion: s.id.APIVersion, Kind: s.id.Kind, Name: s.id.Name, UID: s.id.UID}
	st, err := c.lookupOwner(ctx, ref, s.id.Namespace)
	if err != nil {
		return err
	}
	if st == dangling {
		c.apply(func(g *graph) work { return g.removeVirtual(s.id.UID) })
		return nil
	}
	// It exists; its informer will show it. Retry later in case none
	// watches its resource.
	return fmt.Errorf("garbagecollector: owner %s %s/%s exists but is not observed yet",
		s.id.Kind, s.id.Namespace, s.id.Name)
}

// finishForeground removes the foregroundDeletion finalizer once no
// dependent blocks the owner; until then it has the blocking dependents
// looked at (their deletion wakes the owner again).
func (c *Controller) finishForeground(ctx context.Context, s snapshot, latest *metav1.PartialObjectMetadata) error {
	b := blocking(s.dependents)
	if len(b) == 0 {
		c.log.Info("dependents gone; finishing foreground deletion", "resource", s.resource.String(),
			"namespace", latest.Namespace, "name", latest.Name)
		return c.removeFinalizer(ctx, s.resource, latest, metav1.FinalizerDeleteDependents)
	}
	for _, d := range b {
		if !d.deletingDependents {
			c.attemptToDelete.Add(string(d.id.UID))
		}
	}
	return nil
}

// syncOrphan removes an owner deleted with the orphan policy from its
// dependents' ownerReferences, then its orphan finalizer.
func (c *Controller) syncOrphan(ctx context.Context, uid types.UID) error {
	s, ok := c.snapshot(uid)
	if !ok || s.virtual {
		return nil
	}
	latest, err := c.get(ctx, s.resource, s.id.Namespace, s.id.Name)
	if apierrors.IsNotFound(err) || (err == nil && latest.UID != uid) {
		return nil
	}
	if err != nil {
		return err
	}
	if latest.DeletionTimestamp == nil || !slices.Contains(latest.Finalizers, metav1.FinalizerOrphanDependents) {
		return nil
	}
	var errs []error
	for _, d := range s.dependents {
		if err := c.removeOwnerRef(ctx, d, uid); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("garbagecollector: orphaning dependents of %s/%s: %w", latest.Namespace, latest.Name, errors.Join(errs...))
	}
	c.log.Info("dependents orphaned; removing the orphan finalizer", "resource", s.resource.String(),
		"namespace", latest.Namespace, "name", latest.Name)
	return c.removeFinalizer(ctx, s.resource, latest, metav1.FinalizerOrphanDependents)
}
