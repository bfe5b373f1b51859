package queue

import (
	"context"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// How often the flushes run, as upstream.
const (
	backoffFlushInterval       = time.Second
	unschedulableFlushInterval = 30 * time.Second
)

// Run moves pods whose back-off ended to the active queue every second,
// and pods left in the unschedulable pool too long every 30 seconds, until
// ctx ends; then it closes the queue.
func (q *Queue) Run(ctx context.Context) {
	defer q.Close()
	backoff := time.NewTicker(backoffFlushInterval)
	defer backoff.Stop()
	leftover := time.NewTicker(unschedulableFlushInterval)
	defer leftover.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-backoff.C:
			q.flushBackoff()
		case <-leftover.C:
			q.flushUnschedulable()
		}
	}
}

// flushBackoff moves pods whose back-off has ended to the active queue.
func (q *Queue) flushBackoff() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.o.Now()
	for q.backoff.Len() > 0 && !now.Before(q.backoff.peek().backoffExpiry) {
		q.toActive(q.backoff.pop())
	}
}

// flushUnschedulable retries pods that have waited in the unschedulable
// pool for MaxInUnschedulable.
func (q *Queue) flushUnschedulable() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.o.Now()
	for uid, qp := range q.unschedulable {
		if now.Sub(qp.Timestamp) >= q.o.MaxInUnschedulable {
			delete(q.unschedulable, uid)
			q.toBackoffOrActive(qp)
		}
	}
}

// podChanged reports whether an update may change the scheduling outcome:
// spec, labels or annotations, not status or bookkeeping metadata.
func podChanged(old, cur *corev1.Pod) bool {
	return !maps.Equal(old.Labels, cur.Labels) || !maps.Equal(old.Annotations, cur.Annotations) ||
		!equality.Semantic.DeepEqual(old.Spec, cur.Spec)
}
