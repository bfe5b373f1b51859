package ctrl

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	clocktesting "k8s.io/utils/clock/testing"
)

func TestKey(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p"}}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
	cases := []struct {
		name string
		obj  any
		want string
		ok   bool
	}{
		{"namespaced", pod, "ns/p", true},
		{"cluster-scoped", node, "n1", true},
		{"tombstone uses its key", cache.DeletedFinalStateUnknown{Key: "ns/gone", Obj: pod}, "ns/gone", true},
		{"not an object", 42, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := Key(c.obj)
			if got != c.want || ok != c.ok {
				t.Fatalf("Key = %q, %v; want %q, %v", got, ok, c.want, c.ok)
			}
		})
	}
}

func TestSplitKey(t *testing.T) {
	for _, c := range []struct{ key, ns, name string }{
		{"ns/p", "ns", "p"},
		{"n1", "", "n1"},
	} {
		ns, name := SplitKey(c.key)
		if ns != c.ns || name != c.name {
			t.Errorf("SplitKey(%q) = %q, %q; want %q, %q", c.key, ns, name, c.ns, c.name)
		}
	}
}

func TestObject(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", UID: "u1"}}
	m, ok := Object(pod)
	if !ok || m.GetUID() != "u1" {
		t.Fatalf("Object(pod) = %v, %v", m, ok)
	}
	m, ok = Object(cache.DeletedFinalStateUnknown{Key: "ns/p", Obj: pod})
	if !ok || m.GetUID() != "u1" || m.GetName() != "p" {
		t.Fatalf("Object(tombstone) = %v, %v; want the pod inside", m, ok)
	}
	if _, ok := Object(cache.DeletedFinalStateUnknown{Key: "ns/p", Obj: "junk"}); ok {
		t.Fatal("Object of a tombstone holding no object should fail")
	}
	if _, ok := Object(42); ok {
		t.Fatal("Object(42) should fail")
	}
}

func TestEvery(t *testing.T) {
	const period = 10 * time.Second
	for _, immediately := range []bool{true, false} {
		t.Run(map[bool]string{true: "immediately", false: "after first period"}[immediately], func(t *testing.T) {
			clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			calls := make(chan time.Time, 10)
			done := make(chan struct{})
			go func() {
				defer close(done)
				Every(ctx, clk, period, immediately, func(context.Context) { calls <- clk.Now() })
			}()
			expectCall := func(what string) {
				t.Helper()
				select {
				case <-calls:
				case <-time.After(5 * time.Second):
					t.Fatalf("no call %s", what)
				}
			}
			expectNone := func(what string) {
				t.Helper()
				select {
				case <-calls:
					t.Fatalf("unexpected call %s", what)
				case <-time.After(50 * time.Millisecond):
				}
			}
			if immediately {
				expectCall("at once")
			} else {
				expectNone("before the first period")
			}
			waitForWaiter(t, clk)
			clk.Step(period / 2)
			expectNone("half a period in")
			clk.Step(period / 2)
			expectCall("after one period")
			clk.Step(period)
			expectCall("after two periods")
			expectNone("between periods")
			cancel()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Every did not return when ctx ended")
			}
			clk.Step(period)
			expectNone("after ctx ended")
		})
	}
}

func waitForWaiter(t *testing.T, clk *clocktesting.FakeClock) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !clk.HasWaiters() {
		if time.Now().After(deadline) {
			t.Fatal("Every never created its ticker")
		}
		time.Sleep(time.Millisecond)
	}
}
