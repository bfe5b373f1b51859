package daemonset

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"skiff.dev/internal/controllers/ctrl"
)

// revisionData is what a ControllerRevision of a DaemonSet stores: a
// strategic merge patch that puts the template back
// ({"spec":{"template":{...,"$patch":"replace"}}}), as kubectl rollout undo
// expects. Keys come out sorted, so equal templates give equal bytes.
func revisionData(ds *appsv1.DaemonSet) ([]byte, error) {
	b, err := json.Marshal(&ds.Spec.Template)
	if err != nil {
		return nil, fmt.Errorf("daemonset: marshal template: %w", err)
	}
	var tmpl map[string]any
	if err := utiljson.Unmarshal(b, &tmpl); err != nil {
		return nil, fmt.Errorf("daemonset: unmarshal template: %w", err)
	}
	tmpl["$patch"] = "replace"
	return json.Marshal(map[string]any{"spec": map[string]any{"template": tmpl}})
}

// revisionMatches reports whether the revision stores ds's current template.
func revisionMatches(ds *appsv1.DaemonSet, rev *appsv1.ControllerRevision) (bool, error) {
	data, err := revisionData(ds)
	if err != nil {
		return false, err
	}
	return bytes.Equal(data, rev.Data.Raw), nil
}

// revisions claims ds's ControllerRevisions, makes sure one holds the
// current template with the highest revision number, and returns it with
// the others.
func (c *Controller) revisions(ctx context.Context, ds *appsv1.DaemonSet) (cur *appsv1.ControllerRevision, old []*appsv1.ControllerRevision, err error) {
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		return nil, nil, fmt.Errorf("daemonset: selector: %w", err)
	}
	all, err := c.revisionLister.ControllerRevisions(ds.Namespace).List(labels.Everything())
	if err != nil {
		return nil, nil, err
	}
	owned, err := ctrl.ClaimObjects(ctx, c.claim(ds, sel), all, ctrl.ControllerRevisionPatcher(c.client))
	if err != nil {
		return nil, nil, fmt.Errorf("daemonset: claim revisions: %w", err)
	}
	var current []*appsv1.ControllerRevision
	for _, rev := range owned {
		if _, ok := rev.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]; !ok {
			// Older revisions may lack the hash label; the name serves.
			fix := rev.DeepCopy()
			if fix.Labels == nil {
				fix.Labels = map[string]string{}
			}
			fix.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] = fix.Name
			if rev, err = c.client.AppsV1().ControllerRevisions(ds.Namespace).Update(ctx, fix, metav1.UpdateOptions{}); err != nil {
				return nil, nil, fmt.Errorf("daemonset: label revision %s: %w", fix.Name, err)
			}
		}
		match, err := revisionMatches(ds, rev)
		if err != nil {
			return nil, nil, err
		}
		if match {
			current = append(current, rev)
		} else {
			old = append(old, rev)
		}
	}
	next := int64(1)
	for _, rev := range old {
		next = max(next, rev.Revision+1)
	}
	if len(current) == 0 {
		cur, err = c.snapshot(ctx, ds, next)
		return cur, old, err
	}
	cur, err = c.dedup(ctx, ds, current)
	if err != nil {
		return nil, nil, err
	}
	if cur.Revision < next {
		bump := cur.DeepCopy()
		bump.Revision = next
		if cur, err = c.client.AppsV1().ControllerRevisions(ds.Namespace).Update(ctx, bump, metav1.UpdateOptions{}); err != nil {
			return nil, nil, fmt.Errorf("daemonset: renumber revision %s: %w", bump.Name, err)
		}
	}
	return cur, old, nil
}

// snapshot creates the revision for ds's current template, named
// <ds>-<hash>. When that name is taken by a different template, the
// DaemonSet's collisionCount is raised (so the next hash differs) and the
// sync fails, to be retried.
func (c *Controller) snapshot(ctx context.Context, ds *appsv1.DaemonSet, revision int64) (*appsv1.ControllerRevision, error) {
	data, err := revisionData(ds)
	if err != nil {
		return nil, err
	}
	hash := ctrl.ComputeHash(&ds.Spec.Template, ds.Status.CollisionCount)
	lbls := make(map[string]string, len(ds.Spec.Template.Labels)+1)
	for k, v := range ds.Spec.Template.Labels {
		lbls[k] = v
	}
	lbls[appsv1.DefaultDaemonSetUniqueLabelKey] = hash
	rev := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Name: ds.Name + "-" + hash, Namespace: ds.Namespace, Labels: lbls, Annotations: ds.Annotations,
			OwnerReferences: []metav1.OwnerReference{ctrl.ControllerRef(ds, gvk)},
		},
		Data:     runtime.RawExtension{Raw: data},
		Revision: revision,
	}
	revs := c.client.AppsV1().ControllerRevisions(ds.Namespace)
	created, err := revs.Create(ctx, rev, metav1.CreateOptions{})
	if err == nil {
		return created, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("daemonset: create revision %s: %w", rev.Name, err)
	}
	existing, getErr := revs.Get(ctx, rev.Name, metav1.GetOptions{})
	if getErr != nil {
		return nil, fmt.Errorf("daemonset: get revision %s: %w", rev.Name, getErr)
	}
	if ok, _ := revisionMatches(ds, existing); ok {
		return existing, nil
	}
	fresh, getErr := c.client.AppsV1().DaemonSets(ds.Namespace).Get(ctx, ds.Name, metav1.GetOptions{})
	if getErr != nil {
		return nil, fmt.Errorf("daemonset: get %s: %w", ds.Name, getErr)
	}
	if count(fresh.Status.CollisionCount) != count(ds.Status.CollisionCount) {
		return nil, fmt.Errorf("daemonset: stale collision count of %s/%s; will retry", ds.Namespace, ds.Name)
	}
	n := count(fresh.Status.CollisionCount) + 1
	fresh.Status.CollisionCount = &n
	if _, err := c.client.AppsV1().DaemonSets(ds.Namespace).UpdateStatus(ctx, fresh, metav1.UpdateOptions{}); err != nil {
		return nil, fmt.Errorf("daemonset: raise collision count of %s: %w", ds.Name, err)
	}
	return nil, fmt.Errorf("daemonset: revision name %s collides; collisionCount now %d", rev.Name, n)
}

func count(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// dedup keeps the highest-numbered of several revisions holding the same
// template: pods labelled with the others are relabelled, then the others
// are deleted.
func (c *Controller) dedup(ctx context.Context, ds *appsv1.DaemonSet, current []*appsv1.ControllerRevision) (*appsv1.ControllerRevision, error) {
	keep := current[0]
	for _, rev := range current[1:] {
		if rev.Revision >= keep.Revision {
			keep = rev
		}
	}
	if len(current) == 1 {
		return keep, nil
	}
	hash := keep.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]
	pods, err := c.claimPods(ctx, ds)
	if err != nil {
		return nil, err
	}
	for _, p := range pods {
		if p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == hash {
			continue
		}
		patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]string{
			appsv1.DefaultDaemonSetUniqueLabelKey: hash}}})
		if _, err := c.client.CoreV1().Pods(ds.Namespace).Patch(ctx, p.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("daemonset: relabel pod %s: %w", p.Name, err)
		}
	}
	for _, rev := range current {
		if rev.Name == keep.Name {
			continue
		}
		err := c.client.AppsV1().ControllerRevisions(ds.Namespace).Delete(ctx, rev.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("daemonset: delete duplicate revision %s: %w", rev.Name, err)
		}
	}
	return keep, nil
}

// prunable picks the old revisions to delete so that at most limit remain:
// the lowest-numbered first, never one that a pod still carries.
func prunable(old []*appsv1.ControllerRevision, limit int, pods []*corev1.Pod) []*appsv1.ControllerRevision {
	excess := len(old) - limit
	if excess <= 0 {
		return nil
	}
	live := map[string]bool{}
	for _, p := range pods {
		if h := p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]; h != "" {
			live[h] = true
		}
	}
	sorted := slices.Clone(old)
	slices.SortStableFunc(sorted, func(a, b *appsv1.ControllerRevision) int {
		return cmp.Compare(a.Revision, b.Revision)
	})
	var out []*appsv1.ControllerRevision
	for _, rev := range sorted {
		if len(out) == excess {
			break
		}
		if !live[rev.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]] {
			out = append(out, rev)
		}
	}
	return out
}

// pruneHistory deletes old revisions beyond revisionHistoryLimit (10 when
// unset).
func (c *Controller) pruneHistory(ctx context.Context, ds *appsv1.DaemonSet, old []*appsv1.ControllerRevision, pods []*corev1.Pod) error {
	limit := 10
	if ds.Spec.RevisionHistoryLimit != nil {
		limit = int(*ds.Spec.RevisionHistoryLimit)
	}
	for _, rev := range prunable(old, limit, pods) {
		err := c.client.AppsV1().ControllerRevisions(ds.Namespace).Delete(ctx, rev.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("daemonset: delete revision %s: %w", rev.Name, err)
		}
	}
	return nil
}
