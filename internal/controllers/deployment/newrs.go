package deployment

import (
	"context"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/controllers/ctrl"
)

// newReplicaSetFor builds the replica set for the deployment's current
// template: named <deployment>-<hash>, the hash as pod-template-hash in
// its labels, selector and template, sized by newRSTarget, carrying
// revision rev.
func newReplicaSetFor(d *appsv1.Deployment, old []*appsv1.ReplicaSet, rev int64) *appsv1.ReplicaSet {
	template := d.Spec.Template.DeepCopy()
	hash := ctrl.ComputeHash(&d.Spec.Template, d.Status.CollisionCount)
	template.Labels = withLabel(template.Labels, hashLabel, hash)
	selector := d.Spec.Selector.DeepCopy()
	selector.MatchLabels = withLabel(selector.MatchLabels, hashLabel, hash)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:            d.Name + "-" + hash,
			Namespace:       d.Namespace,
			Labels:          withLabel(template.Labels, hashLabel, hash), // a copy
			OwnerReferences: []metav1.OwnerReference{ctrl.ControllerRef(d, kind)},
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        ptr.To[int32](0),
			MinReadySeconds: d.Spec.MinReadySeconds,
			Selector:        selector,
			Template:        *template,
		},
	}
	rs.Spec.Replicas = ptr.To(newRSTarget(d, append(old[:len(old):len(old)], rs), rs))
	setNewRSAnnotations(d, rs, rev, false)
	return rs
}

func withLabel(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for mk, mv := range m {
		out[mk] = mv
	}
	out[k] = v
	return out
}

// newAndOld splits the replica sets into the new one and the old ones.
// The new one's revision and annotations are brought up to date, and the
// deployment's revision with them; with create, a missing new replica set
// is created.
func (c *Controller) newAndOld(ctx context.Context, d *appsv1.Deployment, rss []*appsv1.ReplicaSet, create bool) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet, error) {
	newRS, old := splitNewOld(d, rss)
	rev := maxRevision(old) + 1
	var err error
	switch {
	case newRS != nil:
		newRS, err = c.syncNewRS(ctx, d, newRS, rev)
	case create:
		newRS, err = c.createNewRS(ctx, d, old, rev)
	}
	return newRS, old, err
}

func (c *Controller) syncNewRS(ctx context.Context, d *appsv1.Deployment, rs *appsv1.ReplicaSet, rev int64) (*appsv1.ReplicaSet, error) {
	cp := rs.DeepCopy()
	if setNewRSAnnotations(d, cp, rev, true) || cp.Spec.MinReadySeconds != d.Spec.MinReadySeconds {
		cp.Spec.MinReadySeconds = d.Spec.MinReadySeconds
		updated, err := c.client.AppsV1().ReplicaSets(cp.Namespace).Update(ctx, cp, metav1.UpdateOptions{})
		if err != nil {
			return nil, fmt.Errorf("deployment: update replica set %s: %w", cp.Name, err)
		}
		rs = updated
	}
	changed := setDeploymentRevision(d, rs.Annotations[RevisionAnnotation])
	if hasProgressDeadline(d) && getCondition(d.Status, appsv1.DeploymentProgressing) == nil {
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonFoundNewRS,
			fmt.Sprintf("Found new replica set %q", rs.Name), c.clock.Now()))
		changed = true
	}
	if changed {
		if err := c.writeStatus(ctx, d); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

func (c *Controller) createNewRS(ctx context.Context, d *appsv1.Deployment, old []*appsv1.ReplicaSet, rev int64) (*appsv1.ReplicaSet, error) {
	want := newReplicaSetFor(d, old, rev)
	rs, err := c.client.AppsV1().ReplicaSets(d.Namespace).Create(ctx, want, metav1.CreateOptions{})
	existed := false
	switch {
	case apierrors.IsAlreadyExists(err):
		cur, getErr := c.client.AppsV1().ReplicaSets(d.Namespace).Get(ctx, want.Name, metav1.GetOptions{})
		if getErr != nil {
			return nil, fmt.Errorf("deployment: get replica set %s: %w", want.Name, getErr)
		}
		if ref := metav1.GetControllerOf(cur); ref != nil && ref.UID == d.UID && equalIgnoreHash(&cur.Spec.Template, &d.Spec.Template) {
			rs, err, existed = cur, nil, true
			break
		}
		// Another template hashed to the same name: bump the collision
		// count, which changes the hash on the next try.
		d.Status.CollisionCount = ptr.To(ptr.Deref(d.Status.CollisionCount, 0) + 1)
		if werr := c.writeStatus(ctx, d); werr != nil {
			return nil, werr
		}
		return nil, fmt.Errorf("deployment: replica set name %s collides: %w", want.Name, err)
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return nil, err
	case err != nil:
		msg := fmt.Sprintf("Failed to create new replica set %q: %v", want.Name, err)
		if hasProgressDeadline(d) {
			setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, ReasonRSCreateError, msg, c.clock.Now()))
			_ = c.writeStatus(ctx, d)
		}
		c.recorder.Event(d, corev1.EventTypeWarning, ReasonRSCreateError, msg)
		return nil, fmt.Errorf("deployment: create replica set %s: %w", want.Name, err)
	}
	if !existed && replicas(rs) > 0 {
		c.recorder.Eventf(d, corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled up replica set %s from 0 to %d", rs.Name, replicas(rs))
	}
	revText := rs.Annotations[RevisionAnnotation]
	if revText == "" {
		revText = strconv.FormatInt(rev, 10)
	}
	changed := setDeploymentRevision(d, revText)
	if !existed && hasProgressDeadline(d) {
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewRSCreated,
			fmt.Sprintf("Created new replica set %q", rs.Name), c.clock.Now()))
		changed = true
	}
	if changed {
		if err := c.writeStatus(ctx, d); err != nil {
			return rs, err
		}
	}
	return rs, nil
}
