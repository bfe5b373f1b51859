package replicaset

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"skiff.dev/internal/controllers/ctrl"
)

// Event reasons, as upstream's pod control records them.
const (
	EventSuccessfulCreate = "SuccessfulCreate"
	EventFailedCreate     = "FailedCreate"
	EventSuccessfulDelete = "SuccessfulDelete"
	EventFailedDelete     = "FailedDelete"
)

// sync brings one ReplicaSet's pods and status in line with its spec.
func (c *Controller) sync(ctx context.Context, key string) error {
	namespace, name := ctrl.SplitKey(key)
	rs, err := c.rsList.ReplicaSets(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		c.exp.Forget(key)
		return nil
	}
	if err != nil {
		return fmt.Errorf("replicaset: get %s: %w", key, err)
	}
	// Read before looking at the pods: an observation that arrives in
	// between then makes this sync skip acting rather than act twice.
	mayAct := c.exp.Satisfied(key)
	selector, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		c.log.Warn("invalid selector; not syncing", "replicaset", key, "err", err)
		return nil
	}
	all, err := c.podList.Pods(namespace).List(labels.Everything())
	if err != nil {
		return fmt.Errorf("replicaset: list pods of %s: %w", key, err)
	}
	owned, err := ctrl.ClaimPods(ctx, c.client, ctrl.Claim{
		Owner: rs, Kind: kind, Selector: selector,
		CanAdopt: ctrl.RecheckOwner(rs, func(ctx context.Context) (metav1.Object, error) {
			return c.client.AppsV1().ReplicaSets(namespace).Get(ctx, name, metav1.GetOptions{})
		}),
	}, activePods(all))
	if err != nil {
		return fmt.Errorf("replicaset: claim pods of %s: %w", key, err)
	}

	var manageErr error
	if mayAct && rs.DeletionTimestamp == nil {
		manageErr = c.manage(ctx, key, rs, owned)
	}
	st := computeStatus(rs, owned, terminatingPods(rs, selector, all), manageErr, c.clock.Now())
	updated, err := c.writeStatus(ctx, rs, st)
	if err != nil {
		return errors.Join(manageErr, err)
	}
	if manageErr == nil && updated.Spec.MinReadySeconds > 0 &&
		updated.Status.ReadyReplicas == replicas(updated) && updated.Status.AvailableReplicas != replicas(updated) {
		ctrl.Requeue(c.queue, key, time.Duration(updated.Spec.MinReadySeconds)*time.Second)
	}
	return manageErr
}

// manage creates or deletes pods so that owned (the active pods rs
// controls) becomes spec.replicas.
func (c *Controller) manage(ctx context.Context, key string, rs *appsv1.ReplicaSet, owned []*corev1.Pod) error {
	d := diff(len(owned), replicas(rs), BurstReplicas)
	switch {
	case d > 0:
		c.exp.Forget(key)
		c.exp.ExpectCreations(key, d)
		created, err := slowStart(d, 1, func() error { return c.createPod(ctx, rs) })
		// Pods not created will never be observed.
		for range d - created {
			c.exp.CreationObserved(key)
		}
		return err
	case d < 0:
		doomed := victims(owned, c.relatedPods(rs), -d, c.clock.Now())
		uids := make([]types.UID, len(doomed))
		for i, p := range doomed {
			uids[i] = p.UID
		}
		c.exp.Forget(key)
		c.exp.ExpectDeletions(key, uids...)
		return c.deletePods(ctx, key, rs, doomed)
	}
	return nil
}

func (c *Controller) createPod(ctx context.Context, rs *appsv1.ReplicaSet) error {
	pod := ctrl.PodFromTemplate(&rs.Spec.Template, rs, kind)
	if len(pod.Labels) == 0 {
		return errors.New("replicaset: unable to create pods, no labels")
	}
	created, err := c.client.CoreV1().Pods(rs.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			// Every creation will fail until the namespace is gone;
			// that is not the ReplicaSet's failure.
			return nil
		}
		c.recorder.Eventf(rs, corev1.EventTypeWarning, EventFailedCreate, "Error creating: %v", err)
		return err
	}
	c.recorder.Eventf(rs, corev1.EventTypeNormal, EventSuccessfulCreate, "Created pod: %s", created.Name)
	return nil
}

// deletePods deletes pods in parallel and returns the first failure; a pod
// already gone is no failure.
func (c *Controller) deletePods(ctx context.Context, key string, rs *appsv1.ReplicaSet, pods []*corev1.Pod) error {
	errs := make(chan error, len(pods))
	var wg sync.WaitGroup
	for _, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
			if err == nil {
				c.recorder.Eventf(rs, corev1.EventTypeNormal, EventSuccessfulDelete, "Deleted pod: %s", p.Name)
				return
			}
			// The informer will not see this deletion.
			c.exp.DeletionObserved(key, p.UID)
			if !apierrors.IsNotFound(err) {
				c.recorder.Eventf(rs, corev1.EventTypeWarning, EventFailedDelete, "Error deleting: %v", err)
				errs <- err
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// relatedPods are the pods of every ReplicaSet with the same controller as
// rs (a Deployment's sets), or rs's own when it has none.
func (c *Controller) relatedPods(rs *appsv1.ReplicaSet) []*corev1.Pod {
	sets := []*appsv1.ReplicaSet{rs}
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil {
		all, err := c.rsList.ReplicaSets(rs.Namespace).List(labels.Everything())
		if err == nil {
			sets = sets[:0]
			for _, other := range all {
				if r := metav1.GetControllerOfNoCopy(other); r != nil && r.UID == ref.UID {
					sets = append(sets, other)
				}
			}
		}
	}
	seen := map[types.UID]bool{}
	var out []*corev1.Pod
	for _, s := range sets {
		sel, err := metav1.LabelSelectorAsSelector(s.Spec.Selector)
		if err != nil {
			continue
		}
		pods, err := c.podList.Pods(s.Namespace).List(sel)
		if err != nil {
			continue
		}
		for _, p := range pods {
			if !seen[p.UID] {
				seen[p.UID] = true
				out = append(out, p)
			}
		}
	}
	return out
}
