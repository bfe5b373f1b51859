package daemonset

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/flowcontrol"
	clocktesting "k8s.io/utils/clock/testing"

	"skiff.dev/internal/controllers/ctrl"
)

func TestFailedPodBackoff(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	rec := record.NewFakeRecorder(10)
	q := ctrl.NewQueue("test")
	defer q.ShutDown()
	c := &Controller{clock: clk, recorder: rec, queue: q,
		backoff: flowcontrol.NewFakeBackOff(time.Second, time.Minute, clk)}
	ds := makeDS("d").obj()
	failed := []*corev1.Pod{makePod("f", "n1", "h", time.Minute).phase(corev1.PodFailed).obj()}

	if got := names(c.failedToDelete(ds, "n1", failed)); len(got) != 1 {
		t.Fatalf("first failure: delete %v, want [f]", got)
	}
	if ev := <-rec.Events; ev != "Warning FailedDaemonPod Found failed daemon pod default/f on node n1, will try to kill it" {
		t.Errorf("event %q", ev)
	}
	if got := c.failedToDelete(ds, "n1", failed); len(got) != 0 {
		t.Fatalf("within the back-off: delete %v, want none", names(got))
	}
	if got := c.failedToDelete(ds, "n2", failed); len(got) != 1 {
		t.Fatalf("another node has its own back-off: delete %v", names(got))
	}
	clk.Step(1500 * time.Millisecond)
	if got := c.failedToDelete(ds, "n1", failed); len(got) != 1 {
		t.Fatalf("after 1.5 s: delete %v, want [f]", names(got))
	}
	// The back-off doubled: 1.5 s later it still holds.
	clk.Step(1500 * time.Millisecond)
	if got := c.failedToDelete(ds, "n1", failed); len(got) != 0 {
		t.Fatalf("within the doubled back-off: delete %v, want none", names(got))
	}
}
