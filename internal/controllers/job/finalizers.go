package job

import (
	"context"
	"errors"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// removeFinalizerPatch drops the tracking finalizer and nothing else.
var removeFinalizerPatch = []byte(fmt.Sprintf(`{"metadata":{"$deleteFromPrimitiveList/finalizers":[%q]}}`,
	batchv1.JobTrackingFinalizer))

// releasePods removes the tracking finalizer from pods, remembering each
// removal sent until the cache shows it.
func (c *Controller) releasePods(ctx context.Context, key string, pods []*corev1.Pod) error {
	var errs []error
	for _, p := range pods {
		if !hasFinalizer(p) {
			continue
		}
		_, err := c.client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType,
			removeFinalizerPatch, metav1.PatchOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
			continue
		}
		c.removalSent(key, p.UID)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("job: remove finalizers for %s: %w", key, err)
	}
	return nil
}

// release removes the finalizer from every pod of a finished or deleted
// job.
func (c *Controller) release(ctx context.Context, key string, pods []*corev1.Pod) error {
	removing := c.removing(key)
	return c.releasePods(ctx, key, filter(pods, func(p *corev1.Pod) bool { return !removing[p.UID] }))
}

// releaseOrphans removes the finalizer from the pods of a job that is
// gone.
func (c *Controller) releaseOrphans(ctx context.Context, ns, name string) error {
	key := ns + "/" + name
	c.expect.Forget(key)
	c.backoff.forget(key)
	pods, err := c.pods.Pods(ns).List(labels.SelectorFromSet(labels.Set{batchv1.JobNameLabel: name}))
	if err != nil {
		return err
	}
	removing := c.removing(key)
	return c.releasePods(ctx, key, filter(pods, func(p *corev1.Pod) bool {
		k, ok := jobKey(p)
		return ok && k == key && !removing[p.UID]
	}))
}
