// Package job is the Job controller: it runs a Job's pods until enough of
// them succeed (completions, parallelism, NonIndexed or Indexed completion
// modes) or the job fails (backoffLimit with exponential back-off,
// activeDeadlineSeconds, podFailurePolicy, backoffLimitPerIndex), and it
// suspends and resumes jobs. Finished pods are counted exactly once with
// the batch.kubernetes.io/job-tracking finalizer and
// status.uncountedTerminatedPods (see track.go).
package job

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"skiff.dev/internal/controllers/ctrl"
)

// Name is the controller's name, for logs, events and --controllers.
const Name = "job-controller"

// Controller runs jobs.
type Controller struct {
	client      kubernetes.Interface
	jobs        batchlisters.JobLister
	pods        corelisters.PodLister
	synced      []cache.InformerSynced
	queue       ctrl.Queue
	expect      *ctrl.Expectations
	backoff     *backoffs
	recorder    record.EventRecorder
	clock       clock.WithTicker
	log         *slog.Logger
	workers     int
	removingMu  sync.Mutex
	removingSet map[string]map[types.UID]bool
}

var _ ctrl.Controller = (*Controller)(nil)

// New builds the controller on the shared Job and Pod informers.
func New(cc *ctrl.Context) (ctrl.Controller, error) {
	ji := cc.Informers.Batch().V1().Jobs()
	pi := cc.Informers.Core().V1().Pods()
	c := &Controller{
		client: cc.Client, jobs: ji.Lister(), pods: pi.Lister(),
		synced: []cache.InformerSynced{ji.Informer().HasSynced, pi.Informer().HasSynced},
		queue:  ctrl.NewQueue(Name), expect: ctrl.NewExpectations(),
		backoff: &backoffs{m: map[string]backoffRecord{}}, recorder: cc.Recorder(Name),
		clock: cc.Clock, log: cc.Log.With("controller", Name), workers: cc.Options.Workers,
		removingSet: map[string]map[types.UID]bool{},
	}
	_, err := ji.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { ctrl.Enqueue(c.queue, obj) },
		UpdateFunc: func(_, obj any) { ctrl.Enqueue(c.queue, obj) },
		DeleteFunc: func(obj any) {
			if k, ok := ctrl.Key(obj); ok {
				c.expect.Forget(k)
				c.backoff.forget(k)
				c.queue.Add(k)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("job: %w", err)
	}
	_, err = pi.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.addPod,
		UpdateFunc: func(old, obj any) {
			c.updatePod(old.(*corev1.Pod), obj.(*corev1.Pod))
		},
		DeleteFunc: c.deletePod,
	})
	if err != nil {
		return nil, fmt.Errorf("job: %w", err)
	}
	return c, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	if !ctrl.WaitForSync(ctx, c.synced...) {
		c.queue.ShutDown()
		return
	}
	ctrl.Workers(ctx, c.queue, c.workers, c.log, c.sync)
}

// jobKey is the key of the job that controls pod, if a job does.
func jobKey(pod metav1.Object) (string, bool) {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != "Job" || ref.APIVersion != batchv1.SchemeGroupVersion.String() {
		return "", false
	}
	return pod.GetNamespace() + "/" + ref.Name, true
}

func (c *Controller) addPod(obj any) {
	pod := obj.(*corev1.Pod)
	if key, ok := jobKey(pod); ok {
		if pod.DeletionTimestamp != nil {
			c.expect.DeletionObserved(key, pod.UID)
		}
		c.expect.CreationObserved(key)
		c.queue.Add(key)
		return
	}
	c.enqueueSelecting(pod)
}

func (c *Controller) updatePod(old, pod *corev1.Pod) {
	key, ok := jobKey(pod)
	if oldKey, oldOK := jobKey(old); oldOK && (!ok || oldKey != key) {
		c.queue.Add(oldKey)
	}
	if !ok {
		c.enqueueSelecting(pod)
		return
	}
	if pod.DeletionTimestamp != nil {
		c.expect.DeletionObserved(key, pod.UID)
	}
	if !hasFinalizer(pod) {
		c.removed(key, pod.UID)
	}
	c.queue.Add(key)
}

func (c *Controller) deletePod(obj any) {
	m, ok := ctrl.Object(obj)
	if !ok {
		return
	}
	key, ok := jobKey(m)
	if !ok {
		return
	}
	c.expect.DeletionObserved(key, m.GetUID())
	c.removed(key, m.GetUID())
	c.queue.Add(key)
}

// enqueueSelecting queues the jobs whose selector matches an orphan pod,
// so they may adopt it.
func (c *Controller) enqueueSelecting(pod *corev1.Pod) {
	if pod.DeletionTimestamp != nil {
		return
	}
	jobs, err := c.jobs.Jobs(pod.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, j := range jobs {
		sel, err := metav1.LabelSelectorAsSelector(j.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(pod.Labels)) {
			ctrl.Enqueue(c.queue, j)
		}
	}
}

// removing is the set of pod UIDs of a job whose finalizer removal was
// sent and not yet seen.
func (c *Controller) removing(key string) map[types.UID]bool {
	c.removingMu.Lock()
	defer c.removingMu.Unlock()
	out := map[types.UID]bool{}
	for u := range c.removingSet[key] {
		out[u] = true
	}
	return out
}

func (c *Controller) removalSent(key string, uid types.UID) {
	c.removingMu.Lock()
	defer c.removingMu.Unlock()
	if c.removingSet[key] == nil {
		c.removingSet[key] = map[types.UID]bool{}
	}
	c.removingSet[key][uid] = true
}

func (c *Controller) removed(key string, uid types.UID) {
	c.removingMu.Lock()
	defer c.removingMu.Unlock()
	delete(c.removingSet[key], uid)
	if len(c.removingSet[key]) == 0 {
		delete(c.removingSet, key)
	}
}
