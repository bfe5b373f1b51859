package deployment

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// oldPodsRunning reports whether any pod of an old replica set may still
// run: the old replica sets report pods, or a pod of one that is not the
// new replica set has not finished (pods being deleted count until they
// are gone).
func oldPodsRunning(newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet, pods map[types.UID][]*corev1.Pod) bool {
	if statusReplicas(old) > 0 {
		return true
	}
	for uid, list := range pods {
		if newRS != nil && newRS.UID == uid {
			continue
		}
		for _, p := range list {
			if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
				return true
			}
		}
	}
	return false
}

// rolloutRecreate scales every old replica set to zero, waits until none
// of their pods runs, and only then creates or scales up the new one.
func (c *Controller) rolloutRecreate(ctx context.Context, d *appsv1.Deployment, rss []*appsv1.ReplicaSet, pods map[types.UID][]*corev1.Pod) error {
	newRS, old, err := c.newAndOld(ctx, d, rss, false)
	if err != nil {
		return err
	}
	var down []resize
	for _, rs := range active(old) {
		down = append(down, resize{rs: rs, to: 0})
	}
	if len(down) > 0 {
		old, err = c.apply(ctx, d, old, down)
		if err != nil {
			return err
		}
		return c.syncRolloutStatus(ctx, d, withNew(old, newRS), newRS)
	}
	if oldPodsRunning(newRS, old, pods) {
		return c.syncRolloutStatus(ctx, d, withNew(old, newRS), newRS)
	}
	if newRS == nil {
		if newRS, old, err = c.newAndOld(ctx, d, rss, true); err != nil {
			return err
		}
	}
	if replicas(newRS) != desired(d) {
		if newRS, _, err = c.resize(ctx, d, newRS, desired(d)); err != nil {
			return err
		}
	}
	if complete(d, &d.Status) {
		if err := c.cleanup(ctx, d, old); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, d, withNew(old, newRS), newRS)
}
