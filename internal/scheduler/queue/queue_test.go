package queue

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"skiff.dev/internal/scheduler/framework"
	st "skiff.dev/internal/scheduler/schedtest"
)

// clock is a settable time for the queue.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) advance(d time.Duration) { c.now = c.now.Add(d) }
func newTestQueue(o Options) (*Queue, *clock) {
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	o.Now = c.Now
	return New(o), c
}

func pop(t *testing.T, q *Queue) *QueuedPod {
	t.Helper()
	if q.active.Len() == 0 {
		t.Fatalf("nothing to pop; counts %+v", q.Counts())
	}
	qp, ok := q.Pop()
	if !ok {
		t.Fatal("queue closed")
	}
	return qp
}

var nodeAdded = framework.ClusterEvent{Resource: framework.Node, Action: framework.Add}

func TestBackoffDoublesUpToTheMaximum(t *testing.T) {
	q, _ := newTestQueue(Options{})
	var got []time.Duration
	for attempts := 1; attempts <= 6; attempts++ {
		got = append(got, q.backoffDuration(attempts))
	}
	want := fmt.Sprint([]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second})
	if fmt.Sprint(got) != want {
		t.Errorf("back-offs %v, want %v", got, want)
	}
}

// TestFailedPodWaitsOutItsBackoff: a pod that failed with an error waits
// its back-off (1 s, then 2 s) in the back-off queue before it is popped
// again.
func TestFailedPodWaitsOutItsBackoff(t *testing.T) {
	q, clk := newTestQueue(Options{})
	q.Add(st.MakePod().Name("p").Obj())
	for _, backoff := range []time.Duration{time.Second, 2 * time.Second} {
		qp := pop(t, q)
		q.Requeue(qp, false)
		if c := q.Counts(); c.Backoff != 1 {
			t.Fatalf("after a failure: %+v, want it backing off", c)
		}
		clk.advance(backoff - time.Millisecond)
		q.flushBackoff()
		if c := q.Counts(); c.Backoff != 1 {
			t.Fatalf("%v into a %v back-off: %+v, want it still backing off", backoff-time.Millisecond, backoff, c)
		}
		clk.advance(time.Millisecond)
		q.flushBackoff()
		if c := q.Counts(); c.Active != 1 {
			t.Fatalf("after %v: %+v, want it active", backoff, c)
		}
	}
}

// TestUnschedulablePodWaitsForARelevantEvent: a pod no node fits stays in
// the unschedulable pool until an event one of its rejecting plugins cares
// about, or five minutes.
func TestUnschedulablePodWaitsForARelevantEvent(t *testing.T) {
	interested := func(ev framework.ClusterEvent, plugins map[string]bool) bool {
		return !plugins["TaintToleration"] || ev.Action&(framework.Add|framework.UpdateNodeTaint) != 0
	}
	q, clk := newTestQueue(Options{Interested: interested})
	q.Add(st.MakePod().Name("p").Obj())
	qp := pop(t, q)
	qp.UnschedulablePlugins = map[string]bool{"TaintToleration": true}
	q.Requeue(qp, true)
	clk.advance(2 * time.Second)
	q.flushBackoff()
	if c := q.Counts(); c.Unschedulable != 1 {
		t.Fatalf("%+v, want the pod unschedulable", c)
	}
	q.MoveAll(framework.ClusterEvent{Resource: framework.AssignedPod, Action: framework.Delete})
	if c := q.Counts(); c.Unschedulable != 1 {
		t.Fatalf("after an event it does not care about: %+v, want it still unschedulable", c)
	}
	q.MoveAll(nodeAdded)
	if c := q.Counts(); c.Active != 1 {
		t.Fatalf("after a node was added: %+v, want it active (its back-off is over)", c)
	}

	// Again, and this time nothing happens for five minutes.
	qp = pop(t, q)
	q.Requeue(qp, true)
	clk.advance(DefaultMaxInUnschedulable - time.Second)
	q.flushUnschedulable()
	if c := q.Counts(); c.Unschedulable != 1 {
		t.Fatalf("before five minutes: %+v", c)
	}
	clk.advance(time.Second)
	q.flushUnschedulable()
	if c := q.Counts(); c.Active != 1 {
		t.Fatalf("after five minutes: %+v, want it active", c)
	}
}

// TestEventDuringCycleIsNotLost: an event that arrives while a pod is being
// scheduled sends the pod to the back-off queue rather than the
// unschedulable pool, where it might wait for five minutes.
func TestEventDuringCycleIsNotLost(t *testing.T) {
	q, clk := newTestQueue(Options{})
	q.Add(st.MakePod().Name("p").Obj())
	qp := pop(t, q)
	q.MoveAll(nodeAdded) // a node appeared while the cycle ran
	q.Requeue(qp, true)
	if c := q.Counts(); c.Backoff != 1 {
		t.Fatalf("%+v, want it backing off", c)
	}
	clk.advance(time.Second)
	q.flushBackoff()
	if c := q.Counts(); c.Active != 1 {
		t.Fatalf("%+v, want it active", c)
	}
}

func TestMoveWhileBackingOffGoesToBackoff(t *testing.T) {
	q, _ := newTestQueue(Options{})
	q.Add(st.MakePod().Name("p").Obj())
	q.Requeue(pop(t, q), true)
	q.MoveAll(nodeAdded)
	if c := q.Counts(); c.Backoff != 1 {
		t.Fatalf("%+v, want it to finish its back-off first", c)
	}
}

func TestPopOrder(t *testing.T) {
	q, clk := newTestQueue(Options{})
	for i, p := range []*corev1.Pod{
		st.MakePod().Name("old-low").Obj(),
		st.MakePod().Name("high").Priority(100).Obj(),
		st.MakePod().Name("new-low").Obj(),
	} {
		clk.advance(time.Duration(i) * time.Millisecond)
		q.Add(p)
	}
	var got []string
	for range 3 {
		got = append(got, pop(t, q).Pod.Name)
	}
	if fmt.Sprint(got) != "[high old-low new-low]" {
		t.Errorf("popped %v, want the highest priority, then the oldest", got)
	}
}

func TestUpdatesAndDeletes(t *testing.T) {
	q, _ := newTestQueue(Options{})
	p := st.MakePod().Name("p").Obj()
	q.Add(p)
	qp := pop(t, q)
	q.Requeue(qp, true)

	// A status-only change (the scheduler's own condition) leaves it be.
	withStatus := p.DeepCopy()
	withStatus.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse}}
	q.Update(withStatus)
	if c := q.Counts(); c.Unschedulable != 1 {
		t.Fatalf("after a status update: %+v, want it still unschedulable", c)
	}
	// A spec change retries it.
	tolerant := withStatus.DeepCopy()
	tolerant.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
	q.Update(tolerant)
	if c := q.Counts(); c.Unschedulable != 0 {
		t.Fatalf("after a spec update: %+v, want it retried", c)
	}
	q.Delete(p.UID)
	if c := q.Counts(); c != (Counts{}) {
		t.Fatalf("after delete: %+v, want empty", c)
	}

	// Deleted while in flight: dropped when the cycle ends.
	q.Add(p)
	qp = pop(t, q)
	q.Delete(p.UID)
	q.Requeue(qp, true)
	if c := q.Counts(); c != (Counts{}) {
		t.Fatalf("after a delete in flight: %+v, want empty", c)
	}
	// Updated while in flight: the new pod goes to back-off.
	q.Add(p)
	qp = pop(t, q)
	q.Update(tolerant)
	q.Requeue(qp, true)
	if c := q.Counts(); c.Backoff != 1 || len(qp.Pod.Spec.Tolerations) != 1 {
		t.Fatalf("after an update in flight: %+v, tolerations %v", c, qp.Pod.Spec.Tolerations)
	}
	// Bound: Done forgets it.
	q.Delete(p.UID)
	q.Add(p)
	qp = pop(t, q)
	q.Done(qp.Pod.UID)
	if c := q.Counts(); c != (Counts{}) {
		t.Fatalf("after Done: %+v, want empty", c)
	}
}

func TestGatedPodsWait(t *testing.T) {
	q, _ := newTestQueue(Options{})
	gated := st.MakePod().Name("p").SchedulingGate("example.com/wait").Obj()
	q.Add(gated)
	if c := q.Counts(); c.Gated != 1 {
		t.Fatalf("%+v, want it gated", c)
	}
	open := gated.DeepCopy()
	open.Spec.SchedulingGates = nil
	q.Update(open)
	if c := q.Counts(); c.Active != 1 {
		t.Fatalf("%+v, want it active once its gates are gone", c)
	}
}

func TestCloseWakesPop(t *testing.T) {
	q, _ := newTestQueue(Options{})
	done := make(chan bool)
	go func() {
		_, ok := q.Pop()
		done <- ok
	}()
	q.Close()
	if ok := <-done; ok {
		t.Error("Pop returned a pod from an empty, closed queue")
	}
}

// TestUpdateKnownDoesNotRequeueBoundPods: an update that arrives after the
// pod was bound (and left the queue) does not bring it back.
func TestUpdateKnownDoesNotRequeueBoundPods(t *testing.T) {
	q, _ := newTestQueue(Options{})
	p := st.MakePod().Name("p").Obj()
	q.Add(p)
	qp := pop(t, q)
	late := p.DeepCopy()
	late.Labels = map[string]string{"late": "true"}
	q.UpdateKnown(late) // in flight: kept
	q.Done(qp.Pod.UID)
	q.UpdateKnown(late) // bound: ignored
	if c := q.Counts(); c != (Counts{}) {
		t.Fatalf("%+v, want empty", c)
	}
}
