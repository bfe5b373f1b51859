package test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/scheduler"
	"skiff.dev/internal/scheduler/schedtest"
	"skiff.dev/testenv"
)

// startScheduler runs a scheduler against env until the test ends, with
// env's admin config unless opts say otherwise.
func startScheduler(t *testing.T, env *testenv.Env, opts ...scheduler.Options) {
	t.Helper()
	o := scheduler.Options{Config: env.Config}
	if len(opts) > 0 {
		o = opts[0]
	}
	s, err := scheduler.New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.Run(ctx); err != nil {
			t.Errorf("scheduler: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// createNode creates a node with its status (capacity = allocatable), as
// an agent would.
func createNode(t *testing.T, cs kubernetes.Interface, n *corev1.Node) {
	t.Helper()
	status := n.Status
	got, err := cs.CoreV1().Nodes().Create(t.Context(), n, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Status.Allocatable) == 0 {
		got.Status = status
		if _, err := cs.CoreV1().Nodes().UpdateStatus(t.Context(), got, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

func createPods(t *testing.T, cs kubernetes.Interface, pods ...*corev1.Pod) {
	t.Helper()
	for _, p := range pods {
		p.UID = "" // the builders' UIDs are for unit tests
		if _, err := cs.CoreV1().Pods(p.Namespace).Create(t.Context(), p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// pollFor polls cond every 50 ms for up to d.
func pollFor(t *testing.T, d time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 50*time.Millisecond, d, true, func(context.Context) (bool, error) { return cond() })
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// nodeOf waits until the pod is bound and returns its node.
func nodeOf(t *testing.T, cs kubernetes.Interface, name string) string {
	t.Helper()
	var node string
	pollFor(t, 20*time.Second, "pod "+name+" to be bound", func() (bool, error) {
		p, err := cs.CoreV1().Pods("default").Get(t.Context(), name, metav1.GetOptions{})
		node = p.Spec.NodeName
		return node != "", err
	})
	return node
}

func node(name string, pairs ...string) *schedtest.NodeWrapper {
	return schedtest.MakeNode().Name(name).Capacity(append([]string{"pods", "110"}, pairs...)...)
}

// TestSchedulerPlacesPodsOnFittingNodes: each pod lands on the one node its
// requests, selector, affinity, tolerations and host ports allow; a pod of
// another scheduler is left alone.
func TestSchedulerPlacesPodsOnFittingNodes(t *testing.T) {
	env := testenv.Start(t, testenv.Options{WithoutScheduler: true})
	cs := clientset(t, env)
	for _, n := range []*corev1.Node{
		node("small", "cpu", "1", "memory", "4Gi").Label("pool", "a").Obj(),
		node("big", "cpu", "8", "memory", "32Gi").Label("pool", "a").Obj(),
		node("ssd", "cpu", "2", "memory", "8Gi").Label("disk", "ssd").Obj(),
		node("infra", "cpu", "16", "memory", "64Gi").Label("role", "infra").Taint("dedicated", "infra", corev1.TaintEffectNoSchedule).Obj(),
		node("cordoned", "cpu", "16", "memory", "64Gi").Label("pool", "a").Unschedulable().Obj(),
	} {
		createNode(t, cs, n)
	}
	startScheduler(t, env)
	createPods(t, cs,
		schedtest.MakePod().Name("three-cpus").Req("cpu", "3").NodeSelector("pool", "a").Obj(),
		schedtest.MakePod().Name("wants-ssd").Req("cpu", "100m").NodeSelector("disk", "ssd").Obj(),
		schedtest.MakePod().Name("infra-only").Req("cpu", "100m").RequiredNodeAffinityIn("role", "infra").
			Toleration("dedicated", "infra", corev1.TaintEffectNoSchedule).Obj(),
		schedtest.MakePod().Name("port-1").HostPort(9000).NodeSelector("pool", "a").Req("cpu", "100m").Obj(),
		schedtest.MakePod().Name("port-2").HostPort(9000).NodeSelector("pool", "a").Req("cpu", "100m").Obj(),
	)
	other := schedtest.MakePod().Name("other-scheduler").Req("cpu", "100m").Obj()
	other.Spec.SchedulerName = "someone-else"
	createPods(t, cs, other)

	for pod, want := range map[string]string{"three-cpus": "big", "wants-ssd": "ssd", "infra-only": "infra"} {
		if got := nodeOf(t, cs, pod); got != want {
			t.Errorf("pod %s went to %s, want %s", pod, got, want)
		}
	}
	p1, p2 := nodeOf(t, cs, "port-1"), nodeOf(t, cs, "port-2")
	if p1 == p2 || p1 == "cordoned" || p2 == "cordoned" {
		t.Errorf("the host port pods went to %s and %s, want two different schedulable nodes", p1, p2)
	}
	p, err := cs.CoreV1().Pods("default").Get(t.Context(), "other-scheduler", metav1.GetOptions{})
	if err != nil || p.Spec.NodeName != "" {
		t.Errorf("another scheduler's pod: node %q, %v; want it left pending", p.Spec.NodeName, err)
	}
}

// TestSchedulerSpreadsPodsWithoutOvercommit: 300 pods that exactly fill
// three equal nodes are spread evenly (LeastAllocated), and no node holds
// more than it has.
func TestSchedulerSpreadsPodsWithoutOvercommit(t *testing.T) {
	env := testenv.Start(t, testenv.Options{WithoutScheduler: true})
	cs := clientset(t, env)
	for _, name := range []string{"n1", "n2", "n3"} {
		createNode(t, cs, node(name, "cpu", "4", "memory", "16Gi").Obj())
	}
	startScheduler(t, env)
	for i := range 300 {
		createPods(t, cs, schedtest.MakePod().Name(fmt.Sprintf("p%03d", i)).Req("cpu", "40m", "memory", "100Mi").Obj())
	}
	perNode := map[string]int{}
	cpu := map[string]*resource.Quantity{}
	pollFor(t, 60*time.Second, "300 pods to be bound", func() (bool, error) {
		list, err := cs.CoreV1().Pods("default").List(t.Context(), metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		clear(perNode)
		clear(cpu)
		bound := 0
		for _, p := range list.Items {
			if p.Spec.NodeName == "" {
				continue
			}
			bound++
			perNode[p.Spec.NodeName]++
			if cpu[p.Spec.NodeName] == nil {
				cpu[p.Spec.NodeName] = resource.NewQuantity(0, resource.DecimalSI)
			}
			cpu[p.Spec.NodeName].Add(p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU])
		}
		return bound == 300, nil
	})
	for _, name := range []string{"n1", "n2", "n3"} {
		if perNode[name] != 100 {
			t.Errorf("node %s holds %d pods, want 100 (all: %v)", name, perNode[name], perNode)
		}
		if cpu[name].Cmp(resource.MustParse("4")) > 0 {
			t.Errorf("node %s is overcommitted: %s cpu requested of 4", name, cpu[name])
		}
	}
}

// TestSchedulerReportsUnschedulablePods: a pod no node fits gets a
// FailedScheduling event and PodScheduled=False with upstream's message,
// and is scheduled as soon as a node it fits is added.
func TestSchedulerReportsUnschedulablePods(t *testing.T) {
	env := testenv.Start(t, testenv.Options{WithoutScheduler: true})
	cs := clientset(t, env)
	const controlPlane = "node-role.kubernetes.io/control-plane"
	createNode(t, cs, node("worker", "cpu", "1", "memory", "4Gi").Obj())
	createNode(t, cs, node("cp1", "cpu", "8", "memory", "16Gi").Taint(controlPlane, "", corev1.TaintEffectNoSchedule).Obj())
	createNode(t, cs, node("cp2", "cpu", "8", "memory", "16Gi").Taint(controlPlane, "", corev1.TaintEffectNoSchedule).Obj())
	startScheduler(t, env)
	createPods(t, cs, schedtest.MakePod().Name("hungry").Req("cpu", "2").Obj())

	const want = "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint(s). " +
		"preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
	var cond *corev1.PodCondition
	pollFor(t, 20*time.Second, "the PodScheduled condition", func() (bool, error) {
		p, err := cs.CoreV1().Pods("default").Get(t.Context(), "hungry", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for i, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled {
				cond = &p.Status.Conditions[i]
			}
		}
		return cond != nil, nil
	})
	if cond.Status != corev1.ConditionFalse || cond.Reason != corev1.PodReasonUnschedulable || cond.Message != want {
		t.Errorf("condition: %s %s %q\nwant False Unschedulable %q", cond.Status, cond.Reason, cond.Message, want)
	}
	ev := waitForEvent(t, cs, "hungry", "FailedScheduling")
	if ev.Type != corev1.EventTypeWarning || ev.Message != want || ev.ReportingController != scheduler.DefaultSchedulerName {
		t.Errorf("event: %s %q from %q\nwant Warning %q from %q", ev.Type, ev.Message, ev.ReportingController, want, scheduler.DefaultSchedulerName)
	}

	// A node that fits appears: the pod is retried on that event, not
	// after the unschedulable pool's five-minute flush.
	start := time.Now()
	createNode(t, cs, node("worker2", "cpu", "4", "memory", "8Gi").Obj())
	if got := nodeOf(t, cs, "hungry"); got != "worker2" {
		t.Errorf("pod went to %s, want worker2", got)
	}
	t.Logf("scheduled %v after the node was added", time.Since(start).Round(time.Millisecond))
	ev = waitForEvent(t, cs, "hungry", "Scheduled")
	if want := "Successfully assigned default/hungry to worker2"; ev.Type != corev1.EventTypeNormal || ev.Message != want {
		t.Errorf("event: %s %q, want Normal %q", ev.Type, ev.Message, want)
	}
}

// TestSchedulerRetriesWhenRoomIsFreed: a pod that finishes, and a pod that
// is deleted, each free their node for a pod waiting for the room. The
// scheduler here has its own name and runs on the caller's client and
// informers.
func TestSchedulerRetriesWhenRoomIsFreed(t *testing.T) {
	env := testenv.Start(t, testenv.Options{WithoutScheduler: true})
	cs := clientset(t, env)
	createNode(t, cs, node("only", "cpu", "1", "memory", "4Gi").Obj())
	startScheduler(t, env, scheduler.Options{Client: cs, Informers: informers.NewSharedInformerFactory(cs, 0), SchedulerName: "mine"})
	pods := cs.CoreV1().Pods("default")
	mine := func(name string) *corev1.Pod {
		p := schedtest.MakePod().Name(name).Req("cpu", "800m").Obj()
		p.Spec.SchedulerName = "mine"
		return p
	}

	createPods(t, cs, mine("first"))
	nodeOf(t, cs, "first")
	createPods(t, cs, mine("second"))
	waitForEvent(t, cs, "second", "FailedScheduling")

	first, err := pods.Get(t.Context(), "first", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first.Status.Phase = corev1.PodSucceeded
	if _, err := pods.UpdateStatus(t.Context(), first, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	nodeOf(t, cs, "second")

	createPods(t, cs, mine("third"))
	waitForEvent(t, cs, "third", "FailedScheduling")
	if err := pods.Delete(t.Context(), "second", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		t.Fatal(err)
	}
	nodeOf(t, cs, "third")
}

// waitForEvent waits for an event with the reason about the pod.
func waitForEvent(t *testing.T, cs kubernetes.Interface, pod, reason string) corev1.Event {
	t.Helper()
	var found corev1.Event
	pollFor(t, 20*time.Second, reason+" event for "+pod, func() (bool, error) {
		list, err := cs.CoreV1().Events("default").List(t.Context(), metav1.ListOptions{
			FieldSelector: "involvedObject.name=" + pod + ",reason=" + reason})
		if err != nil || len(list.Items) == 0 {
			return false, err
		}
		found = list.Items[len(list.Items)-1]
		return true, nil
	})
	if !strings.EqualFold(found.InvolvedObject.Kind, "Pod") {
		t.Errorf("event about a %s, want a Pod", found.InvolvedObject.Kind)
	}
	return found
}
