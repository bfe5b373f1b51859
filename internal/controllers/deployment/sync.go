package deployment

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// rolloutRolling takes one step of a rolling update: grow the new replica
// set, else shrink old ones, else (when complete) prune history; then
// report progress.
func (c *Controller) rolloutRolling(ctx context.Context, d *appsv1.Deployment, rss []*appsv1.ReplicaSet) error {
	newRS, old, err := c.newAndOld(ctx, d, rss, true)
	if err != nil {
		return err
	}
	if to := newRSTarget(d, withNew(old, newRS), newRS); to != replicas(newRS) {
		if newRS, _, err = c.resize(ctx, d, newRS, to); err != nil {
			return err
		}
		return c.syncRolloutStatus(ctx, d, withNew(old, newRS), newRS)
	}
	if plan := scaleDownOld(d, active(old), newRS); len(plan) > 0 {
		if old, err = c.apply(ctx, d, old, plan); err != nil {
			return err
		}
		return c.syncRolloutStatus(ctx, d, withNew(old, newRS), newRS)
	}
	if complete(d, &d.Status) {
		if err := c.cleanup(ctx, d, old); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, d, withNew(old, newRS), newRS)
}

// syncScale handles a paused deployment or a change of replicas: resize
// the replica sets without rolling out, and report status.
func (c *Controller) syncScale(ctx context.Context, d *appsv1.Deployment, rss []*appsv1.ReplicaSet) error {
	newRS, old, err := c.newAndOld(ctx, d, rss, false)
	if err != nil {
		return err
	}
	all := withNew(old, newRS)
	if all, err = c.apply(ctx, d, all, scalePlan(d, newRS, old)); err != nil {
		return err
	}
	newRS, old = splitNewOld(d, all)
	if d.Spec.Paused {
		if err := c.cleanup(ctx, d, old); err != nil {
			return err
		}
	}
	return c.syncStatus(ctx, d, all, newRS)
}

// apply carries out a plan, returning rss with the resized replica sets
// replaced by their updated versions.
func (c *Controller) apply(ctx context.Context, d *appsv1.Deployment, rss []*appsv1.ReplicaSet, plan []resize) ([]*appsv1.ReplicaSet, error) {
	out := append([]*appsv1.ReplicaSet(nil), rss...)
	for _, step := range plan {
		updated, _, err := c.resize(ctx, d, step.rs, step.to)
		if err != nil {
			return nil, err
		}
		for i, rs := range out {
			if rs != nil && rs.UID == step.rs.UID {
				out[i] = updated
			}
		}
	}
	return out, nil
}

// resize sets a replica set's replicas, and its desired/max replicas
// annotations to the deployment's, recording a ScalingReplicaSet event
// when the size changes.
func (c *Controller) resize(ctx context.Context, d *appsv1.Deployment, rs *appsv1.ReplicaSet, to int32) (*appsv1.ReplicaSet, bool, error) {
	from := replicas(rs)
	most := desired(d) + maxSurge(d)
	if from == to && !replicasAnnotationsNeedUpdate(rs, desired(d), most) {
		return rs, false, nil
	}
	cp := rs.DeepCopy()
	cp.Spec.Replicas = ptr.To(to)
	setReplicasAnnotations(cp, desired(d), most)
	updated, err := c.client.AppsV1().ReplicaSets(cp.Namespace).Update(ctx, cp, metav1.UpdateOptions{})
	if err != nil {
		return rs, false, fmt.Errorf("deployment: scale replica set %s: %w", rs.Name, err)
	}
	if from == to {
		return updated, false, nil
	}
	direction := "up"
	if to < from {
		direction = "down"
	}
	c.recorder.Eventf(d, corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d", direction, rs.Name, from, to)
	return updated, true, nil
}

// cleanup deletes the old replica sets past the revision history limit.
func (c *Controller) cleanup(ctx context.Context, d *appsv1.Deployment, old []*appsv1.ReplicaSet) error {
	for _, rs := range historyToDelete(d, old) {
		uid := rs.UID
		err := c.client.AppsV1().ReplicaSets(rs.Namespace).Delete(ctx, rs.Name, metav1.DeleteOptions{
			Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("deployment: delete old replica set %s: %w", rs.Name, err)
		}
	}
	return nil
}

// syncStatus writes the status computed from the replica sets, with no
// judgement on progress (paused, scaling, deleting).
func (c *Controller) syncStatus(ctx context.Context, d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) error {
	st := calculateStatus(d, all, newRS, c.clock.Now())
	if apiequality.Semantic.DeepEqual(d.Status, st) {
		return nil
	}
	d.Status = st
	return c.writeStatus(ctx, d)
}

// syncRolloutStatus writes the status of a rollout, Progressing included,
// and schedules a re-check for when its deadline may pass.
func (c *Controller) syncRolloutStatus(ctx context.Context, d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) error {
	now := c.clock.Now()
	st := rolloutStatus(d, all, newRS, now)
	if apiequality.Semantic.DeepEqual(d.Status, st) {
		if after := recheckAfter(d, &st, now); after >= 0 {
			key := d.Namespace + "/" + d.Name
			c.deadlines.AddAfter(key, after)
		}
		return nil
	}
	d.Status = st
	return c.writeStatus(ctx, d)
}

// writeStatus writes d's status (and annotations, which the status
// subresource also takes) and keeps the stored version in d.
func (c *Controller) writeStatus(ctx context.Context, d *appsv1.Deployment) error {
	updated, err := c.client.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("deployment: update status of %s/%s: %w", d.Namespace, d.Name, err)
	}
	*d = *updated
	return nil
}

// ownerOf is the deployment a controller reference points to, if it is
// one the cache knows.
func (c *Controller) ownerOf(namespace string, ref *metav1.OwnerReference) *appsv1.Deployment {
	if ref == nil || ref.Kind != kind.Kind || ref.APIVersion != appsv1.SchemeGroupVersion.String() {
		return nil
	}
	d, err := c.deployments.Deployments(namespace).Get(ref.Name)
	if err != nil || d.UID != ref.UID {
		return nil
	}
	return d
}
