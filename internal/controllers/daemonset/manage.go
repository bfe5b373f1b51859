package daemonset

import (
	"context"
	"errors"
	"strconv"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/internal/controllers/ctrl"
)

// Event reasons, as upstream's.
const (
	reasonFailedDaemonPod    = "FailedDaemonPod"
	reasonSucceededDaemonPod = "SucceededDaemonPod"
	reasonSuccessfulCreate   = "SuccessfulCreate"
	reasonFailedCreate       = "FailedCreate"
	reasonSuccessfulDelete   = "SuccessfulDelete"
	reasonFailedDelete       = "FailedDelete"
)

// manage is the core loop: a pod for every node that should run one and
// has none, no pods where none may run, one pod per node (the oldest) when
// not surging, and failed or finished pods replaced.
func (c *Controller) manage(ctx context.Context, ds *appsv1.DaemonSet, nodes []*corev1.Node, hash string) error {
	pods, err := c.claimPods(ctx, ds)
	if err != nil {
		return err
	}
	byNode := groupByNode(pods)
	surge := allowsSurge(ds)
	now := metav1.Time{Time: c.clock.Now()}
	var create []string
	var remove []*corev1.Pod
	for _, n := range nodes {
		plan := planNode(n, ds, byNode[n.Name], surge, hash, now)
		if plan.create {
			create = append(create, n.Name)
		}
		for _, p := range plan.remove {
			if p.Status.Phase == corev1.PodSucceeded {
				c.recorder.Eventf(ds, corev1.EventTypeNormal, reasonSucceededDaemonPod,
					"Found succeeded daemon pod %s/%s on node %s, will try to delete it", p.Namespace, p.Name, n.Name)
			}
		}
		remove = append(remove, plan.remove...)
		remove = append(remove, c.failedToDelete(ds, n.Name, plan.failed)...)
	}
	remove = append(remove, strandedPods(nodes, byNode)...)
	return c.syncNodes(ctx, ds, remove, create, hash)
}

// failedToDelete lets failed pods on a node be deleted at most once per
// back-off period, so a node that keeps failing the pod is not hammered;
// within the period the DaemonSet is looked at again when it ends.
func (c *Controller) failedToDelete(ds *appsv1.DaemonSet, node string, failed []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range failed {
		id := failedBackoffKey(ds, node)
		now := c.clock.Now()
		if c.backoff.IsInBackOffSinceUpdate(id, now) {
			if key, ok := ctrl.Key(ds); ok {
				ctrl.Requeue(c.queue, key, c.backoff.Get(id))
			}
			continue
		}
		c.backoff.Next(id, now)
		c.recorder.Eventf(ds, corev1.EventTypeWarning, reasonFailedDaemonPod,
			"Found failed daemon pod %s/%s on node %s, will try to kill it", p.Namespace, p.Name, node)
		out = append(out, p)
	}
	return out
}

// podTemplate is ds's template as its pods get it: the daemon tolerations
// added, and labelled with the revision hash and template generation.
func podTemplate(ds *appsv1.DaemonSet, hash string) *corev1.PodTemplateSpec {
	t := ds.Spec.Template.DeepCopy()
	addDaemonTolerations(&t.Spec)
	if t.Labels == nil {
		t.Labels = map[string]string{}
	}
	if gen := templateGeneration(ds); gen != nil {
		t.Labels[templateGenerationLabel] = strconv.FormatInt(*gen, 10)
	}
	if hash != "" {
		t.Labels[appsv1.ControllerRevisionHashLabelKey] = hash
	}
	return t
}

// syncNodes deletes pods and creates a pod for each named node, at most
// BurstReplicas of each, noting both in the expectations first. Creations
// go in batches of 1, 2, 4, …; a failing batch stops the rest, so that a
// quota or admission error costs one request rather than hundreds.
func (c *Controller) syncNodes(ctx context.Context, ds *appsv1.DaemonSet, remove []*corev1.Pod, create []string, hash string) error {
	key, _ := ctrl.Key(ds)
	create = create[:min(len(create), BurstReplicas)]
	remove = remove[:min(len(remove), BurstReplicas)]
	if len(create) == 0 && len(remove) == 0 {
		return nil
	}
	c.expectations.ExpectCreations(key, len(create))
	for _, p := range remove {
		c.expectations.ExpectDeletions(key, p.UID)
	}

	var mu sync.Mutex
	var errs []error
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	template := podTemplate(ds, hash)
	for pos, batch := 0, 1; pos < len(create); batch *= 2 {
		n := min(batch, len(create)-pos)
		before := len(errs)
		var wg sync.WaitGroup
		for _, node := range create[pos : pos+n] {
			wg.Go(func() {
				if err := c.createPod(ctx, ds, template, node); err != nil {
					c.expectations.CreationObserved(key)
					if !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
						fail(err)
					}
				}
			})
		}
		wg.Wait()
		pos += n
		if len(errs) > before {
			for range len(create) - pos {
				c.expectations.CreationObserved(key)
			}
			break
		}
	}

	var wg sync.WaitGroup
	for _, p := range remove {
		wg.Go(func() {
			if err := c.deletePodNow(ctx, ds, p); err != nil {
				c.expectations.DeletionObserved(key, p.UID)
				if !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
					fail(err)
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// createPod creates ds's pod for node, pinned there by node affinity. A
// namespace being deleted refuses pods; that is not worth an event.
func (c *Controller) createPod(ctx context.Context, ds *appsv1.DaemonSet, template *corev1.PodTemplateSpec, node string) error {
	t := template.DeepCopy()
	t.Spec.Affinity = pinToNode(t.Spec.Affinity, node)
	pod := ctrl.PodFromTemplate(t, ds, gvk)
	created, err := c.client.CoreV1().Pods(ds.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		if !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			c.recorder.Eventf(ds, corev1.EventTypeWarning, reasonFailedCreate, "Error creating: %v", err)
		}
		return err
	}
	c.recorder.Eventf(ds, corev1.EventTypeNormal, reasonSuccessfulCreate, "Created pod: %v", created.Name)
	return nil
}

// deletePodNow deletes one of ds's pods, only if it is still the same pod.
func (c *Controller) deletePodNow(ctx context.Context, ds *appsv1.DaemonSet, pod *corev1.Pod) error {
	uid := pod.UID
	err := c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil {
		if !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			c.recorder.Eventf(ds, corev1.EventTypeWarning, reasonFailedDelete, "Error deleting: %v", err)
		}
		return err
	}
	c.recorder.Eventf(ds, corev1.EventTypeNormal, reasonSuccessfulDelete, "Deleted pod: %v", pod.Name)
	return nil
}
