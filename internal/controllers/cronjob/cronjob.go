// Package cronjob is the CronJob controller: it creates a Job for each
// start time of a CronJob's schedule (in spec.timeZone), honouring
// concurrencyPolicy, startingDeadlineSeconds and suspend, keeps
// status.active, lastScheduleTime and lastSuccessfulTime, and deletes
// finished Jobs beyond the history limits.
//
// After downtime only the most recent missed start time runs. Wake-ups
// are queued for the next start time; a tick of the controller's clock
// also re-queues CronJobs whose next start time has passed, so a fake
// clock stepped in a test fires them.
package cronjob

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"skiff.dev/internal/controllers/ctrl"
)

// Name is the controller's name, for logs, events and --controllers.
const Name = "cronjob-controller"

var (
	cronJobKind = batchv1.SchemeGroupVersion.WithKind("CronJob")
	jobKind     = batchv1.SchemeGroupVersion.WithKind("Job")
)

// Controller runs CronJobs.
type Controller struct {
	client   kubernetes.Interface
	cronJobs batchlisters.CronJobLister
	jobs     batchlisters.JobLister
	synced   []cache.InformerSynced
	queue    ctrl.Queue
	recorder record.EventRecorder
	clock    clock.WithTicker
	log      *slog.Logger
	workers  int

	mu   sync.Mutex
	next map[string]time.Time // key -> next start time, for the tick
}

var _ ctrl.Controller = (*Controller)(nil)

// New builds the controller on the shared CronJob and Job informers.
func New(cc *ctrl.Context) (ctrl.Controller, error) {
	ci := cc.Informers.Batch().V1().CronJobs()
	ji := cc.Informers.Batch().V1().Jobs()
	c := &Controller{client: cc.Client, cronJobs: ci.Lister(), jobs: ji.Lister(),
		synced: []cache.InformerSynced{ci.Informer().HasSynced, ji.Informer().HasSynced},
		queue:  ctrl.NewQueue(Name), recorder: cc.Recorder(Name), clock: cc.Clock,
		log: cc.Log.With("controller", Name), workers: cc.Options.Workers, next: map[string]time.Time{}}
	_, err := ci.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { ctrl.Enqueue(c.queue, obj) },
		UpdateFunc: func(_, obj any) { ctrl.Enqueue(c.queue, obj) },
		DeleteFunc: func(obj any) {
			if k, ok := ctrl.Key(obj); ok {
				c.setNext(k, time.Time{})
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("cronjob: %w", err)
	}
	owner := func(obj any) {
		m, ok := ctrl.Object(obj)
		if !ok {
			return
		}
		if ref := metav1.GetControllerOfNoCopy(m); ref != nil && ref.Kind == "CronJob" &&
			ref.APIVersion == batchv1.SchemeGroupVersion.String() {
			c.queue.Add(m.GetNamespace() + "/" + ref.Name)
		}
	}
	_, err = ji.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    owner,
		UpdateFunc: func(_, obj any) { owner(obj) },
		DeleteFunc: owner,
	})
	if err != nil {
		return nil, fmt.Errorf("cronjob: %w", err)
	}
	return c, nil
}

// Run works until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	if !ctrl.WaitForSync(ctx, c.synced...) {
		c.queue.ShutDown()
		return
	}
	go c.tick(ctx)
	ctrl.Workers(ctx, c.queue, c.workers, c.log, c.sync)
}

// tick re-queues, every second of the controller's clock, the CronJobs
// whose next start time has come.
func (c *Controller) tick(ctx context.Context) {
	ctrl.Every(ctx, c.clock, time.Second, false, func(context.Context) {
		now := c.clock.Now()
		c.mu.Lock()
		var due []string
		for k, at := range c.next {
			if !at.After(now) {
				due = append(due, k)
			}
		}
		c.mu.Unlock()
		for _, k := range due {
			c.queue.Add(k)
		}
	})
}

// setNext records when key should run next; zero forgets it.
func (c *Controller) setNext(key string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if at.IsZero() {
		delete(c.next, key)
		return
	}
	c.next[key] = at
}
