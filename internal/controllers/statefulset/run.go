package statefulset

import (
	"context"
	"errors"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// run carries out the plan's steps in order. With OrderedReady the first
// error stops it; with Parallel the steps of the failing stage still run
// and the later stages do not.
func (c *Controller) run(ctx context.Context, s *snapshot, pl plan) error {
	ordered := monotonic(s.set)
	var errs []error
	for i, st := range pl.steps {
		if len(errs) > 0 && (ordered || st.stage != pl.steps[i-1].stage) {
			break
		}
		c.log.Debug("statefulset step", "statefulset", s.set.Namespace+"/"+s.set.Name,
			"action", st.action.String(), "pod", st.pod.Name, "why", st.why)
		if err := c.do(ctx, s, st); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (c *Controller) do(ctx context.Context, s *snapshot, st step) error {
	switch st.action {
	case createPod:
		return c.createPod(ctx, s, st.pod)
	case deletePod:
		return c.deletePod(ctx, s.set, st.pod)
	case createClaims:
		return c.createClaims(ctx, s, st.pod)
	case relabelPod:
		return c.relabelPod(ctx, s.set, st.pod)
	case fixClaims:
		return c.fixClaims(ctx, s, st.pod)
	}
	return nil
}

// createPod creates the pod's claims, then the pod.
func (c *Controller) createPod(ctx context.Context, s *snapshot, pod *corev1.Pod) error {
	if err := c.createClaims(ctx, s, pod); err != nil {
		c.podEvent("create", s.set, pod, err)
		return err
	}
	_, err := c.client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		// The cache has not seen it yet; the next sync will.
		return fmt.Errorf("statefulset: pod %s already exists", pod.Name)
	}
	c.podEvent("create", s.set, pod, err)
	if err != nil {
		return fmt.Errorf("statefulset: create pod %s: %w", pod.Name, err)
	}
	return nil
}

func (c *Controller) deletePod(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	err := c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name,
		metav1.DeleteOptions{Preconditions: metav1.NewUIDPreconditions(string(pod.UID))})
	if apierrors.IsNotFound(err) {
		return nil
	}
	c.podEvent("delete", set, pod, err)
	if err != nil {
		return fmt.Errorf("statefulset: delete pod %s: %w", pod.Name, err)
	}
	return nil
}

// createClaims creates the pod's claims that do not exist yet, owned as
// the retention policy says. A claim being deleted is an error: the pod
// must wait for it to go.
func (c *Controller) createClaims(ctx context.Context, s *snapshot, pod *corev1.Pod) error {
	var errs []error
	for _, cl := range claimsFor(s.set, pod) {
		if have := s.claims[cl.Name]; have != nil {
			if have.DeletionTimestamp != nil {
				errs = append(errs, fmt.Errorf("statefulset: claim %s is being deleted", cl.Name))
			}
			continue
		}
		fixClaimOwners(cl, s.set, pod)
		_, err := c.client.CoreV1().PersistentVolumeClaims(cl.Namespace).Create(ctx, cl, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			continue
		}
		c.claimEvent("create", s.set, pod, cl, err)
		if err != nil {
			errs = append(errs, fmt.Errorf("statefulset: create claim %s: %w", cl.Name, err))
		}
	}
	return errors.Join(errs...)
}

// relabelPod restores the pod's identity labels.
func (c *Controller) relabelPod(ctx context.Context, set *appsv1.StatefulSet, pod *corev1.Pod) error {
	api := c.client.CoreV1().Pods(pod.Namespace)
	cur := pod.DeepCopy()
	for range 5 {
		if identityMatches(set, cur) {
			return nil
		}
		setIdentity(set, cur)
		_, err := api.Update(ctx, cur, metav1.UpdateOptions{})
		if !apierrors.IsConflict(err) {
			c.podEvent("update", set, pod, err)
			if err != nil {
				return fmt.Errorf("statefulset: update pod %s: %w", pod.Name, err)
			}
			return nil
		}
		if cur, err = api.Get(ctx, pod.Name, metav1.GetOptions{}); err != nil {
			return fmt.Errorf("statefulset: %w", err)
		}
	}
	return fmt.Errorf("statefulset: update pod %s: too many conflicts", pod.Name)
}

// fixClaims makes the owners of the pod's claims follow the retention
// policy.
func (c *Controller) fixClaims(ctx context.Context, s *snapshot, pod *corev1.Pod) error {
	var errs []error
	for _, want := range claimsFor(s.set, pod) {
		have := s.claims[want.Name]
		if have == nil || claimOwnersOK(have, s.set, pod) {
			continue
		}
		cl := have.DeepCopy()
		fixClaimOwners(cl, s.set, pod)
		_, err := c.client.CoreV1().PersistentVolumeClaims(cl.Namespace).Update(ctx, cl, metav1.UpdateOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			c.claimEvent("update", s.set, pod, cl, err)
			errs = append(errs, fmt.Errorf("statefulset: update claim %s: %w", cl.Name, err))
		}
	}
	return errors.Join(errs...)
}

// verbs maps an event verb to the capitalized form used in reasons.
var verbs = map[string]string{"create": "Create", "delete": "Delete", "update": "Update"}

func (c *Controller) podEvent(verb string, set *appsv1.StatefulSet, pod *corev1.Pod, err error) {
	if err == nil {
		c.recorder.Eventf(set, corev1.EventTypeNormal, "Successful"+verbs[verb],
			"%s Pod %s in StatefulSet %s successful", verb, pod.Name, set.Name)
		return
	}
	c.recorder.Eventf(set, corev1.EventTypeWarning, "Failed"+verbs[verb],
		"%s Pod %s in StatefulSet %s failed error: %s", verb, pod.Name, set.Name, err)
}

func (c *Controller) claimEvent(verb string, set *appsv1.StatefulSet, pod *corev1.Pod, cl *corev1.PersistentVolumeClaim, err error) {
	if err == nil {
		c.recorder.Eventf(set, corev1.EventTypeNormal, "Successful"+verbs[verb],
			"%s Claim %s Pod %s in StatefulSet %s success", verb, cl.Name, pod.Name, set.Name)
		return
	}
	c.recorder.Eventf(set, corev1.EventTypeWarning, "Failed"+verbs[verb],
		"%s Claim %s for Pod %s in StatefulSet %s failed error: %s", verb, cl.Name, pod.Name, set.Name, err)
}
