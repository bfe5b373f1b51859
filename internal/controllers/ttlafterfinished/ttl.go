// Package ttlafterfinished is the TTL-after-finished controller: it
// deletes a finished Job (one with a Complete or Failed condition)
// spec.ttlSecondsAfterFinished after it finished, with background
// propagation so the garbage collector removes its pods.
package ttlafterfinished

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"skiff.dev/internal/controllers/ctrl"
)

// Name is the controller's name, for logs and --controllers.
const Name = "ttl-after-finished-controller"

// Controller deletes finished jobs whose TTL ran out.
type Controller struct {
	client  kubernetes.Interface
	jobs    batchlisters.JobLister
	synced  cache.InformerSynced
	queue   ctrl.Queue
	clock   clock.WithTicker
	log     *slog.Logger
	workers int
}

var _ ctrl.Controller = (*Controller)(nil)

// New builds the controller on the shared Job informer.
func New(cc *ctrl.Context) (ctrl.Controller, error) {
	ji := cc.Informers.Batch().V1().Jobs()
	c := &Controller{client: cc.Client, jobs: ji.Lister(), synced: ji.Informer().HasSynced,
		queue: ctrl.NewQueue(Name), clock: cc.Clock, log: cc.Log.With("controller", Name), workers: cc.Options.Workers}
	enqueue := func(obj any) {
		if j, ok := obj.(*batchv1.Job); ok && wanted(j) {
			ctrl.Enqueue(c.queue, j)
		}
	}
	_, err := ji.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	})
	if err != nil {
		return nil, fmt.Errorf("ttlafterfinished: %w", err)
	}
	return c, nil
}

// Run works until ctx ends. Besides the delayed re-queues, a tick of the
// controller's clock re-queues the jobs that expired, so a fake clock
// moved forward in a test takes effect.
func (c *Controller) Run(ctx context.Context) {
	if !ctrl.WaitForSync(ctx, c.synced) {
		c.queue.ShutDown()
		return
	}
	go c.tick(ctx)
	ctrl.Workers(ctx, c.queue, c.workers, c.log, c.sync)
}

func (c *Controller) tick(ctx context.Context) {
	ctrl.Every(ctx, c.clock, time.Second, false, func(context.Context) {
		jobs, err := c.jobs.List(labels.Everything())
		if err != nil {
			return
		}
		now := c.clock.Now()
		for _, j := range jobs {
			if at, ok := expiry(j); ok && wanted(j) && !at.After(now) {
				ctrl.Enqueue(c.queue, j)
			}
		}
	})
}

// wanted is whether the controller looks after a job.
func wanted(j *batchv1.Job) bool {
	return j.DeletionTimestamp == nil && j.Spec.TTLSecondsAfterFinished != nil
}

// finishedAt is when a job finished: the transition time of its
// Complete or Failed condition.
func finishedAt(j *batchv1.Job) (time.Time, bool) {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.LastTransitionTime.Time, true
		}
	}
	return time.Time{}, false
}

// expiry is when a finished job with a TTL is due for deletion.
func expiry(j *batchv1.Job) (time.Time, bool) {
	ttl := j.Spec.TTLSecondsAfterFinished
	done, ok := finishedAt(j)
	if ttl == nil || !ok {
		return time.Time{}, false
	}
	return done.Add(time.Duration(*ttl) * time.Second), true
}

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name := ctrl.SplitKey(key)
	j, err := c.jobs.Jobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if left, due := c.due(j); !due {
		if left > 0 {
			ctrl.Requeue(c.queue, key, left)
		}
		return nil
	}
	// The cache may be stale (the TTL changed, or the job was replaced):
	// decide again on a fresh read and delete exactly that version.
	fresh, err := c.client.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("ttlafterfinished: get %s: %w", key, err)
	}
	if left, due := c.due(fresh); !due {
		if left > 0 {
			ctrl.Requeue(c.queue, key, left)
		}
		return nil
	}
	policy := metav1.DeletePropagationBackground
	err = c.client.BatchV1().Jobs(ns).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &policy,
		Preconditions: &metav1.Preconditions{UID: &fresh.UID, ResourceVersion: &fresh.ResourceVersion}})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("ttlafterfinished: delete %s: %w", key, err)
	}
	c.log.Debug("deleted finished job", "job", key)
	return nil
}

// due reports whether a job's TTL ran out, or else how long is left (0
// when it has no TTL or has not finished).
func (c *Controller) due(j *batchv1.Job) (time.Duration, bool) {
	if !wanted(j) {
		return 0, false
	}
	at, ok := expiry(j)
	if !ok {
		return 0, false
	}
	left := at.Sub(c.clock.Now())
	return left, left <= 0
}
