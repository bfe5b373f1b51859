package cache

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"skiff.dev/internal/scheduler/framework"
	st "skiff.dev/internal/scheduler/schedtest"
)

func node(name string) *corev1.Node {
	return st.MakeNode().Name(name).Capacity("cpu", "4", "pods", "10").Obj()
}

func assumed(name, node, cpu string) *framework.PodInfo {
	return framework.NewPodInfo(st.MakePod().Name(name).Node(node).Req("cpu", cpu).Obj())
}

func requested(t *testing.T, s *Snapshot, name string) int64 {
	t.Helper()
	n := s.Get(name)
	if n == nil {
		t.Fatalf("no node %s in the snapshot", name)
	}
	return n.Requested.MilliCPU
}

// TestAssumeConfirmForget: an assumed pod counts at once; the informer's
// add confirms it without counting it twice; a failed binding forgets it.
func TestAssumeConfirmForget(t *testing.T) {
	c, s := New(), NewSnapshot()
	c.AddNode(node("n1"))
	a := assumed("a", "n1", "1")
	if err := c.AssumePod(a); err != nil {
		t.Fatal(err)
	}
	if err := c.AssumePod(a); err == nil {
		t.Error("assumed the same pod twice")
	}
	c.UpdateSnapshot(s)
	if got := requested(t, s, "n1"); got != 1000 || !c.IsAssumed(a.Pod.UID) {
		t.Fatalf("after assume: %d mcpu, assumed %v", got, c.IsAssumed(a.Pod.UID))
	}
	c.AddPod(a.Pod.DeepCopy()) // the informer sees it bound
	c.UpdateSnapshot(s)
	if got := requested(t, s, "n1"); got != 1000 || c.IsAssumed(a.Pod.UID) {
		t.Fatalf("after confirm: %d mcpu, assumed %v", got, c.IsAssumed(a.Pod.UID))
	}
	c.ForgetPod(a.Pod.UID) // confirmed pods are not forgotten
	b := assumed("b", "n1", "2")
	if err := c.AssumePod(b); err != nil {
		t.Fatal(err)
	}
	c.ForgetPod(b.Pod.UID)
	c.UpdateSnapshot(s)
	if got := requested(t, s, "n1"); got != 1000 {
		t.Fatalf("after forget: %d mcpu, want 1000", got)
	}
	if !c.RemovePod(a.Pod.UID) || c.RemovePod(a.Pod.UID) {
		t.Error("RemovePod should report the pod once")
	}
	c.UpdateSnapshot(s)
	if got := requested(t, s, "n1"); got != 0 {
		t.Fatalf("after remove: %d mcpu", got)
	}
}

// TestBoundElsewhere: the informer shows an assumed pod bound to another
// node than assumed; the cache moves it.
func TestBoundElsewhere(t *testing.T) {
	c, s := New(), NewSnapshot()
	c.AddNode(node("n1"))
	c.AddNode(node("n2"))
	a := assumed("a", "n1", "1")
	if err := c.AssumePod(a); err != nil {
		t.Fatal(err)
	}
	bound := a.Pod.DeepCopy()
	bound.Spec.NodeName = "n2"
	c.AddPod(bound)
	c.UpdateSnapshot(s)
	if requested(t, s, "n1") != 0 || requested(t, s, "n2") != 1000 {
		t.Errorf("n1 %d, n2 %d mcpu; want 0 and 1000", requested(t, s, "n1"), requested(t, s, "n2"))
	}
}

// TestSnapshotIsIsolatedAndIncremental: a snapshot does not change when the
// cache does, and UpdateSnapshot copies only what changed.
func TestSnapshotIsIsolatedAndIncremental(t *testing.T) {
	c, s := New(), NewSnapshot()
	c.AddNode(node("n1"))
	c.AddNode(node("n2"))
	c.UpdateSnapshot(s)
	n1, n2 := s.Get("n1"), s.Get("n2")
	if err := c.AssumePod(assumed("a", "n1", "1")); err != nil {
		t.Fatal(err)
	}
	if n1.Requested.MilliCPU != 0 || len(n1.Pods) != 0 {
		t.Fatal("the cache changed a NodeInfo a snapshot holds")
	}
	c.UpdateSnapshot(s)
	if s.Get("n1") == n1 || s.Get("n2") != n2 {
		t.Error("want n1 replaced and n2 kept")
	}
	if s.List()[0] != s.Get("n1") {
		t.Error("the list does not hold the new n1")
	}

	// Pods can arrive before their node; the node is offered once known.
	c.AddPod(st.MakePod().Name("early").Node("n3").Req("cpu", "1").Obj())
	c.UpdateSnapshot(s)
	if s.NumNodes() != 2 {
		t.Fatalf("%d nodes, want 2 (n3 is not known yet)", s.NumNodes())
	}
	c.AddNode(node("n3"))
	c.RemoveNode("n2")
	c.UpdateSnapshot(s)
	if s.NumNodes() != 2 || s.Get("n2") != nil || requested(t, s, "n3") != 1000 {
		t.Fatalf("nodes %d, n2 %v, n3 %d mcpu", s.NumNodes(), s.Get("n2"), requested(t, s, "n3"))
	}
	if names := []string{s.List()[0].Name(), s.List()[1].Name()}; names[0] != "n1" || names[1] != "n3" {
		t.Errorf("order %v, want by name", names)
	}

	// A second snapshot is built whole, and then both stay right.
	other := NewSnapshot()
	c.UpdateSnapshot(other)
	c.UpdateSnapshot(s)
	if other.NumNodes() != 2 || s.NumNodes() != 2 {
		t.Errorf("snapshots hold %d and %d nodes, want 2", other.NumNodes(), s.NumNodes())
	}
	if nodes, pods := c.Counts(); nodes != 2 || pods != 2 {
		t.Errorf("counts %d nodes, %d pods; want 2 and 2", nodes, pods)
	}
}
