package taintevict

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/controllers/ctrl"
)

// scheduler is a controller with only its timers: a fake clock, a queue
// and an event recorder, no client.
func scheduler(t *testing.T) (*Controller, *clocktesting.FakeClock, *record.FakeRecorder) {
	clk := clocktesting.NewFakeClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	rec := record.NewFakeRecorder(10)
	c := &Controller{clock: clk, recorder: rec, queue: ctrl.NewQueue("test"), scheduled: map[string]*eviction{}}
	t.Cleanup(c.queue.ShutDown)
	return c, clk, rec
}

func tolerating(seconds *int64) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", UID: "u1"},
		Spec: corev1.PodSpec{NodeName: "n", Tolerations: []corev1.Toleration{{Key: corev1.TaintNodeUnreachable,
			Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: seconds}}}}
}

var unreachable = []corev1.Taint{{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}}

func TestScheduleAfterTolerationSeconds(t *testing.T) {
	c, clk, _ := scheduler(t)
	pod := tolerating(ptr.To[int64](2))
	c.consider("ns/p", pod, unreachable)
	clk.Step(1500 * time.Millisecond)
	// Seen again (a pod update): the deadline stays where it was.
	c.consider("ns/p", pod, unreachable)
	if c.queue.Len() != 0 {
		t.Fatalf("due after 1.5 s of 2 s")
	}
	clk.Step(600 * time.Millisecond)
	if c.queue.Len() != 1 {
		t.Fatalf("not due after 2.1 s of 2 s (queue length %d)", c.queue.Len())
	}
}

func TestScheduleUntoleratedAtOnce(t *testing.T) {
	c, _, _ := scheduler(t)
	pod := tolerating(nil)
	pod.Spec.Tolerations = nil
	c.consider("ns/p", pod, unreachable)
	if c.queue.Len() != 1 {
		t.Fatal("an untolerated pod is not due at once")
	}
}

func TestScheduleCancelled(t *testing.T) {
	c, clk, rec := scheduler(t)
	pod := tolerating(ptr.To[int64](2))
	c.consider("ns/p", pod, unreachable)
	clk.Step(time.Second)
	c.consider("ns/p", pod, nil) // the taint went away
	clk.Step(5 * time.Second)
	if c.queue.Len() != 0 {
		t.Fatal("a cancelled eviction fell due")
	}
	select {
	case e := <-rec.Events:
		if !strings.Contains(e, "TaintManagerEviction Cancelling deletion of Pod ns/p") {
			t.Errorf("event %q", e)
		}
	default:
		t.Error("no cancellation event")
	}
	// Tainted again: the time counts from now.
	c.consider("ns/p", pod, unreachable)
	clk.Step(1500 * time.Millisecond)
	if c.queue.Len() != 0 {
		t.Fatal("the old deadline was kept")
	}
	clk.Step(time.Second)
	if c.queue.Len() != 1 {
		t.Fatal("not due 2.5 s after the new taint")
	}
}

func TestScheduleForeverTolerated(t *testing.T) {
	c, clk, rec := scheduler(t)
	c.consider("ns/p", tolerating(nil), unreachable)
	clk.Step(time.Hour)
	if c.queue.Len() != 0 || len(c.scheduled) != 0 {
		t.Fatal("a pod tolerating the taint forever is scheduled for eviction")
	}
	if len(rec.Events) != 0 {
		t.Error("an event for nothing")
	}
}

func TestScheduleNewPodSameName(t *testing.T) {
	c, clk, _ := scheduler(t)
	c.consider("ns/p", tolerating(ptr.To[int64](2)), unreachable)
	clk.Step(1500 * time.Millisecond)
	replaced := tolerating(ptr.To[int64](2))
	replaced.UID = "u2"
	c.consider("ns/p", replaced, unreachable)
	clk.Step(time.Second)
	if c.queue.Len() != 0 {
		t.Fatal("a new pod of the same name inherited the old one's deadline")
	}
	if e := c.scheduled["ns/p"]; e == nil || e.uid != "u2" {
		t.Fatalf("scheduled = %+v, want the new pod", e)
	}
}
