// Package queue is the scheduler's queue of pods waiting for a node. It
// has upstream's three parts:
//
//   - the active queue, popped by the scheduling loop: highest priority
//     first, then oldest;
//   - the back-off queue: pods that failed wait 1 s after their first
//     attempt, doubling up to 10 s, before they are tried again;
//   - the unschedulable pool: pods no node fits wait here until a cluster
//     event that could help them (a node added, a node's allocatable,
//     labels or taints changed, a pod on a node deleted) moves them back,
//     or until they have waited 5 minutes.
//
// Pods with scheduling gates wait aside until their gates are removed. A
// pod popped by the loop is "in flight" until the loop calls Requeue or
// Done; updates and deletions that arrive meanwhile are applied then.
//
//	q := queue.New(queue.Options{Interested: fw.Interested})
//	go q.Run(ctx)                  // back-off and leftover flushes
//	q.Add(pod)                     // from the informer
//	qp, ok := q.Pop()              // blocks; false once closed
//	… no node fits …
//	qp.UnschedulablePlugins = diagnosis.UnschedulablePlugins
//	q.Requeue(qp, true)
//	q.MoveAll(framework.ClusterEvent{Resource: framework.Node, Action: framework.Add})
package queue

import (
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"

	"skiff.dev/internal/scheduler/framework"
)

// Upstream's defaults.
const (
	DefaultInitialBackoff     = time.Second
	DefaultMaxBackoff         = 10 * time.Second
	DefaultMaxInUnschedulable = 5 * time.Minute
)

// Options configure a Queue; zero values take the defaults.
type Options struct {
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// MaxInUnschedulable is how long a pod waits in the unschedulable
	// pool before it is retried without any event.
	MaxInUnschedulable time.Duration
	// Interested decides whether an event may help a pod the named plugins
	// rejected; nil means every event helps every pod.
	Interested func(ev framework.ClusterEvent, plugins map[string]bool) bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

type location int

const (
	nowhere location = iota
	inActive
	inBackoff
	inUnschedulable
	inGated
	inFlight
)

// QueuedPod is a pod in the queue with its scheduling history.
type QueuedPod struct {
	*framework.PodInfo
	// Timestamp orders pods of equal priority: when the pod was added,
	// or last failed.
	Timestamp time.Time
	// InitialAttempt is when the pod was first popped.
	InitialAttempt time.Time
	// Attempts counts the pops.
	Attempts int
	// Cycle is the scheduling cycle of the last pop.
	Cycle int64
	// UnschedulablePlugins are the plugins that rejected the pod in its
	// last attempt; the scheduler sets them before Requeue.
	UnschedulablePlugins map[string]bool

	priority      int32
	backoffExpiry time.Time
	where         location
	index         int
}

// Queue holds the pods waiting to be scheduled. It is safe for concurrent
// use.
type Queue struct {
	o    Options
	mu   sync.Mutex
	cond *sync.Cond
	// pods is every pod the queue holds, in flight included.
	pods          map[types.UID]*QueuedPod
	active        podHeap
	backoff       podHeap
	unschedulable map[types.UID]*QueuedPod
	// updated and deleted record what happened to pods in flight.
	updated map[types.UID]*corev1.Pod
	deleted map[types.UID]bool
	// cycle counts pops; moveCycle is the cycle of the last MoveAll, so a
	// pod that failed while an event arrived is not parked.
	cycle, moveCycle int64
	closed           bool
}

// New returns an empty queue.
func New(o Options) *Queue {
	if o.InitialBackoff <= 0 {
		o.InitialBackoff = DefaultInitialBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.MaxInUnschedulable <= 0 {
		o.MaxInUnschedulable = DefaultMaxInUnschedulable
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	q := &Queue{
		o:             o,
		pods:          map[types.UID]*QueuedPod{},
		unschedulable: map[types.UID]*QueuedPod{},
		updated:       map[types.UID]*corev1.Pod{},
		deleted:       map[types.UID]bool{},
		active: podHeap{less: func(a, b *QueuedPod) bool {
			if a.priority != b.priority {
				return a.priority > b.priority
			}
			return a.Timestamp.Before(b.Timestamp)
		}},
		backoff: podHeap{less: func(a, b *QueuedPod) bool { return a.backoffExpiry.Before(b.backoffExpiry) }},
	}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func gated(pod *corev1.Pod) bool { return len(pod.Spec.SchedulingGates) > 0 }

func (q *Queue) newQueuedPod(pi *framework.PodInfo) *QueuedPod {
	return &QueuedPod{PodInfo: pi, Timestamp: q.o.Now(), priority: corev1helpers.PodPriority(pi.Pod), index: -1}
}

// Add queues a new pending pod. A pod the queue already holds is updated
// instead.
func (q *Queue) Add(pod *corev1.Pod) { q.upsert(pod, true) }

// Update replaces a pending pod, or adds it. A pod waiting in the
// unschedulable pool whose spec, labels or annotations changed is retried
// (after its back-off); status-only changes, such as the scheduler's own
// condition, are not a reason to retry.
func (q *Queue) Update(pod *corev1.Pod) { q.upsert(pod, true) }

// UpdateKnown is Update for a pod the queue may no longer hold: a pod
// that is not in the queue (it was bound meanwhile) is not added again.
func (q *Queue) UpdateKnown(pod *corev1.Pod) { q.upsert(pod, false) }

func (q *Queue) upsert(pod *corev1.Pod, add bool) {
	if !add && !q.holds(pod.UID) {
		return
	}
	pi := framework.NewPodInfo(pod)
	q.mu.Lock()
	defer q.mu.Unlock()
	if qp, ok := q.pods[pod.UID]; ok {
		q.update(qp, pi)
		return
	}
	if !add {
		return
	}
	qp := q.newQueuedPod(pi)
	q.pods[pod.UID] = qp
	if gated(pod) {
		qp.where = inGated
		return
	}
	q.toActive(qp)
}

func (q *Queue) holds(uid types.UID) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	_, ok := q.pods[uid]
	return ok
}

func (q *Queue) update(qp *QueuedPod, pi *framework.PodInfo) {
	switch qp.where {
	case inFlight:
		q.updated[pi.Pod.UID] = pi.Pod
		return
	case inActive:
		qp.PodInfo, qp.priority = pi, corev1helpers.PodPriority(pi.Pod)
		q.active.fix(qp)
	case inBackoff:
		qp.PodInfo, qp.priority = pi, corev1helpers.PodPriority(pi.Pod)
	case inGated:
		qp.PodInfo, qp.priority = pi, corev1helpers.PodPriority(pi.Pod)
		if !gated(pi.Pod) {
			q.toActive(qp)
		}
	case inUnschedulable:
		changed := podChanged(qp.Pod, pi.Pod)
		qp.PodInfo, qp.priority = pi, corev1helpers.PodPriority(pi.Pod)
		if changed {
			delete(q.unschedulable, pi.Pod.UID)
			q.toBackoffOrActive(qp)
		}
	}
}

// Delete removes a pod that was deleted or is no longer pending (it was
// bound).
func (q *Queue) Delete(uid types.UID) {
	q.mu.Lock()
	defer q.mu.Unlock()
	qp, ok := q.pods[uid]
	if !ok {
		return
	}
	switch qp.where {
	case inFlight:
		q.deleted[uid] = true
		return
	case inActive:
		q.active.remove(qp)
	case inBackoff:
		q.backoff.remove(qp)
	case inUnschedulable:
		delete(q.unschedulable, uid)
	}
	delete(q.pods, uid)
}

// Pop takes the next pod to schedule, waiting for one. It returns false
// once the queue is closed.
func (q *Queue) Pop() (*QueuedPod, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.active.Len() == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return nil, false
	}
	qp := q.active.pop()
	qp.where = inFlight
	q.cycle++
	qp.Cycle = q.cycle
	qp.Attempts++
	if qp.InitialAttempt.IsZero() {
		qp.InitialAttempt = q.o.Now()
	}
	return qp, true
}

// Requeue returns a pod that failed its cycle. A pod that no node fits
// (rejected) goes to the unschedulable pool, unless a cluster event arrived
// during its cycle or it was updated meanwhile; then, and after errors, it
// goes to the back-off queue. A pod deleted meanwhile is dropped.
func (q *Queue) Requeue(qp *QueuedPod, rejected bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	uid := qp.Pod.UID
	if q.pods[uid] != qp || qp.where != inFlight {
		return
	}
	if q.deleted[uid] {
		q.forget(uid)
		return
	}
	retry := !rejected || q.moveCycle >= qp.Cycle
	if pod, ok := q.updated[uid]; ok {
		delete(q.updated, uid)
		retry = retry || podChanged(qp.Pod, pod)
		qp.PodInfo, qp.priority = framework.NewPodInfo(pod), corev1helpers.PodPriority(pod)
	}
	now := q.o.Now()
	qp.Timestamp = now
	qp.backoffExpiry = now.Add(q.backoffDuration(qp.Attempts))
	switch {
	case gated(qp.Pod):
		qp.where = inGated
	case retry:
		q.toBackoffOrActive(qp)
	default:
		qp.where = inUnschedulable
		q.unschedulable[uid] = qp
	}
}

// Done ends a pod's flight: it was bound, or given up.
func (q *Queue) Done(uid types.UID) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if qp, ok := q.pods[uid]; ok && qp.where == inFlight {
		q.forget(uid)
	}
}

func (q *Queue) forget(uid types.UID) {
	delete(q.pods, uid)
	delete(q.updated, uid)
	delete(q.deleted, uid)
}

// MoveAll retries the pods in the unschedulable pool that the event may
// help: to the active queue, or to the back-off queue while their
// back-off lasts.
func (q *Queue) MoveAll(ev framework.ClusterEvent) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.moveCycle = q.cycle
	for uid, qp := range q.unschedulable {
		if q.o.Interested == nil || q.o.Interested(ev, qp.UnschedulablePlugins) {
			delete(q.unschedulable, uid)
			q.toBackoffOrActive(qp)
		}
	}
}

func (q *Queue) toActive(qp *QueuedPod) {
	qp.where = inActive
	q.active.add(qp)
	q.cond.Signal()
}

func (q *Queue) toBackoffOrActive(qp *QueuedPod) {
	if q.o.Now().Before(qp.backoffExpiry) {
		qp.where = inBackoff
		q.backoff.add(qp)
		return
	}
	q.toActive(qp)
}

// backoffDuration is InitialBackoff doubled for each attempt after the
// first, up to MaxBackoff.
func (q *Queue) backoffDuration(attempts int) time.Duration {
	d := q.o.InitialBackoff
	for i := 1; i < attempts && d < q.o.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, q.o.MaxBackoff)
}

// Close wakes Pop for good.
func (q *Queue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.cond.Broadcast()
}

// Counts returns how many pods wait in each part of the queue.
type Counts struct {
	Active, Backoff, Unschedulable, Gated, InFlight int
}

// Counts returns the current counts.
func (q *Queue) Counts() Counts {
	q.mu.Lock()
	defer q.mu.Unlock()
	var c Counts
	for _, qp := range q.pods {
		switch qp.where {
		case inActive:
			c.Active++
		case inBackoff:
			c.Backoff++
		case inUnschedulable:
			c.Unschedulable++
		case inGated:
			c.Gated++
		case inFlight:
			c.InFlight++
		}
	}
	return c
}
