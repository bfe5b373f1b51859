package scheduler

import (
	"context"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/flowcontrol"
)

// The scheduler's events go through client-go's events.k8s.io broadcaster,
// as upstream's do, on a client of their own. They are paced: a queue holds
// them and feeds the broadcaster at up to EventQPS a second (in bursts of
// EventBurst), so that binding thousands of pods a second neither waits for
// events nor makes the API server write an event for every binding at the
// same time; events catch up when the burst is over. The queue holds up to
// maxPendingEvents small records; beyond that events are dropped and
// counted (Stats.EventsDropped), where the broadcaster alone would start a
// goroutine for each event waiting on the client's rate limit.
const maxPendingEvents = 20000

// pendingEvent is an event not yet handed to the broadcaster.
type pendingEvent struct {
	pod                             metav1.ObjectMeta // namespace, name and uid
	eventType, reason, action, note string
}

// eventQueue paces events into a recorder.
type eventQueue struct {
	recorder events.EventRecorder
	limiter  flowcontrol.RateLimiter
	dropped  *atomic.Int64

	mu      sync.Mutex
	pending []pendingEvent
	wake    chan struct{}
}

func newEventQueue(recorder events.EventRecorder, qps float32, burst int, dropped *atomic.Int64) *eventQueue {
	return &eventQueue{recorder: recorder, limiter: flowcontrol.NewTokenBucketRateLimiter(qps, burst),
		dropped: dropped, wake: make(chan struct{}, 1)}
}

// add queues an event about pod, or drops it when the queue is full.
func (q *eventQueue) add(pod *corev1.Pod, eventType, reason, action, note string) {
	q.mu.Lock()
	if len(q.pending) >= maxPendingEvents {
		q.mu.Unlock()
		q.dropped.Add(1)
		return
	}
	q.pending = append(q.pending, pendingEvent{
		pod:       metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		eventType: eventType, reason: reason, action: action, note: note})
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// run hands queued events to the recorder at the paced rate until ctx
// ends; what is still queued then is dropped.
func (q *eventQueue) run(ctx context.Context) {
	var batch []pendingEvent
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		}
		for {
			q.mu.Lock()
			batch, q.pending = q.pending, batch[:0]
			q.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			for _, e := range batch {
				if q.limiter.Wait(ctx) != nil {
					return
				}
				q.recorder.Eventf(&corev1.Pod{ObjectMeta: e.pod}, nil, e.eventType, e.reason, e.action, "%s", e.note)
			}
			clear(batch)
		}
	}
}

// quietSink drops events once the scheduler stops, where the broadcaster
// would log an error for each one still under way.
type quietSink struct{ events.EventSink }

func (s quietSink) Create(ctx context.Context, e *eventsv1.Event) (*eventsv1.Event, error) {
	out, err := s.EventSink.Create(ctx, e)
	if err != nil && ctx.Err() != nil {
		return e, nil
	}
	return out, err
}

func (s quietSink) Update(ctx context.Context, e *eventsv1.Event) (*eventsv1.Event, error) {
	out, err := s.EventSink.Update(ctx, e)
	if err != nil && ctx.Err() != nil {
		return e, nil
	}
	return out, err
}

func (s quietSink) Patch(ctx context.Context, e *eventsv1.Event, data []byte) (*eventsv1.Event, error) {
	out, err := s.EventSink.Patch(ctx, e, data)
	if err != nil && ctx.Err() != nil {
		return e, nil
	}
	return out, err
}
