package statefulset

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/controllers/ctrl"
)

// sync brings one set a step closer to its spec and records its status.
func (c *Controller) sync(ctx context.Context, key string) error {
	namespace, name := ctrl.SplitKey(key)
	cached, err := c.sets.StatefulSets(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("statefulset: %w", err)
	}
	set := cached.DeepCopy()
	sel, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil {
		// An invalid selector does not heal by retrying.
		c.log.Warn("invalid selector", "statefulset", key, "err", err)
		return nil
	}
	claim := ctrl.Claim{Owner: set, Kind: setKind, Selector: sel,
		CanAdopt: ctrl.RecheckOwner(set, func(ctx context.Context) (metav1.Object, error) {
			return c.client.AppsV1().StatefulSets(namespace).Get(ctx, name, metav1.GetOptions{})
		})}

	allRevs, err := c.revisions.ControllerRevisions(namespace).List(labels.Everything())
	if err != nil {
		return fmt.Errorf("statefulset: %w", err)
	}
	revs, err := ctrl.ClaimObjects(ctx, claim, allRevs, ctrl.ControllerRevisionPatcher(c.client))
	if err != nil {
		return fmt.Errorf("statefulset: %w", err)
	}
	allPods, err := c.pods.Pods(namespace).List(labels.Everything())
	if err != nil {
		return fmt.Errorf("statefulset: %w", err)
	}
	var members []*corev1.Pod
	for _, p := range allPods {
		if isMember(set, p) {
			members = append(members, p)
		}
	}
	pods, err := ctrl.ClaimPods(ctx, c.client, claim, members)
	if err != nil {
		return fmt.Errorf("statefulset: %w", err)
	}

	sortRevisions(revs)
	collisions := ptr.Deref(set.Status.CollisionCount, 0)
	update, err := c.updateRevision(ctx, set, revs, &collisions)
	if err != nil {
		return err
	}
	current := currentRevisionOf(set, revs, update)
	s := &snapshot{set: set, currentRevision: current.Name, updateRevision: update.Name,
		collisionCount: collisions, pods: pods, now: c.clock.Now()}
	if s.current, err = applyRevision(set, current); err != nil {
		return err
	}
	if s.update, err = applyRevision(set, update); err != nil {
		return err
	}
	if s.claims, err = c.claimsIn(namespace); err != nil {
		return err
	}

	pl := decide(s)
	runErr := c.run(ctx, s, pl)
	st := pl.status
	completeRollingUpdate(set, &st)
	statusErr := c.writeStatus(ctx, set, &st)
	pruneErr := c.prune(ctx, set, pods, revs, st.CurrentRevision, st.UpdateRevision)
	if err := errors.Join(runErr, statusErr, pruneErr); err != nil {
		return err
	}
	if pl.staleClaim {
		ctrl.Requeue(c.queue, key, StaleClaimRetry)
	}
	if m := set.Spec.MinReadySeconds; m > 0 && st.AvailableReplicas != replicasOf(set) {
		ctrl.Requeue(c.queue, key, time.Duration(m)*time.Second)
	}
	return nil
}

func (c *Controller) claimsIn(namespace string) (map[string]*corev1.PersistentVolumeClaim, error) {
	list, err := c.claims.PersistentVolumeClaims(namespace).List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("statefulset: %w", err)
	}
	out := make(map[string]*corev1.PersistentVolumeClaim, len(list))
	for _, cl := range list {
		out[cl.Name] = cl
	}
	return out, nil
}

// updateRevision returns the revision holding the set's template,
// creating it (bumping the collision count on a hash clash) or
// renumbering an older one for a rollback.
func (c *Controller) updateRevision(ctx context.Context, set *appsv1.StatefulSet, revs []*appsv1.ControllerRevision, collisions *int32) (*appsv1.ControllerRevision, error) {
	choice, err := chooseUpdateRevision(set, revs, *collisions)
	if err != nil {
		return nil, err
	}
	api := c.client.AppsV1().ControllerRevisions(set.Namespace)
	switch {
	case choice.existing != nil && !choice.renumber:
		return choice.existing, nil
	case choice.existing != nil:
		r := choice.existing.DeepCopy()
		for {
			r.Revision = choice.want.Revision
			out, err := api.Update(ctx, r, metav1.UpdateOptions{})
			if !apierrors.IsConflict(err) {
				if err != nil {
					return nil, fmt.Errorf("statefulset: renumber revision %s: %w", r.Name, err)
				}
				return out, nil
			}
			if r, err = api.Get(ctx, r.Name, metav1.GetOptions{}); err != nil {
				return nil, fmt.Errorf("statefulset: %w", err)
			}
		}
	}
	want := choice.want
	for {
		out, err := api.Create(ctx, want, metav1.CreateOptions{})
		if err == nil {
			return out, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("statefulset: create revision %s: %w", want.Name, err)
		}
		have, err := api.Get(ctx, want.Name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("statefulset: %w", err)
		}
		if sameData(have.Data.Raw, want.Data.Raw) {
			return have, nil
		}
		*collisions++
		nameRevision(want, set.Name, *collisions)
	}
}

// writeStatus stores st when it differs from what is stored.
func (c *Controller) writeStatus(ctx context.Context, set *appsv1.StatefulSet, st *appsv1.StatefulSetStatus) error {
	if !statusDiffers(set, st) {
		return nil
	}
	api := c.client.AppsV1().StatefulSets(set.Namespace)
	cur := set.DeepCopy()
	for range 5 {
		cur.Status = *st
		_, err := api.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
		if err == nil || apierrors.IsNotFound(err) {
			return nil
		}
		if !apierrors.IsConflict(err) {
			return fmt.Errorf("statefulset: update status of %s: %w", set.Name, err)
		}
		if cur, err = api.Get(ctx, set.Name, metav1.GetOptions{}); err != nil {
			return fmt.Errorf("statefulset: %w", err)
		}
	}
	return fmt.Errorf("statefulset: update status of %s: too many conflicts", set.Name)
}

// prune deletes the revisions beyond revisionHistoryLimit that nothing
// uses.
func (c *Controller) prune(ctx context.Context, set *appsv1.StatefulSet, pods []*corev1.Pod, revs []*appsv1.ControllerRevision, current, update string) error {
	limit := ptr.Deref(set.Spec.RevisionHistoryLimit, 10)
	var errs []error
	for _, r := range revisionsToPrune(revs, pods, current, update, limit) {
		err := c.client.AppsV1().ControllerRevisions(r.Namespace).Delete(ctx, r.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("statefulset: delete revision %s: %w", r.Name, err))
		}
	}
	return errors.Join(errs...)
}
