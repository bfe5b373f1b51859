package scheduler

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"skiff.dev/internal/scheduler/cache"
	"skiff.dev/internal/scheduler/framework"
	st "skiff.dev/internal/scheduler/schedtest"
)

// nodeWith is a node holding pods.
func nodeWith(node *st.NodeWrapper, pods ...*st.PodWrapper) *framework.NodeInfo {
	n := node.Obj()
	info := framework.NewNodeInfo(n)
	for _, p := range pods {
		info.AddPod(framework.NewPodInfo(p.Node(n.Name).Obj()))
	}
	return info
}

// TestScheduleFitErrorPreemption: the preemption part of the message says,
// node by node, what upstream's DefaultPreemption says when it finds
// nothing to preempt.
func TestScheduleFitErrorPreemption(t *testing.T) {
	small := func(name string) *st.NodeWrapper {
		return st.MakeNode().Name(name).Capacity("cpu", "4", "memory", "4Gi", "pods", "10")
	}
	pod := func(name string) *st.PodWrapper { return st.MakePod().Name(name) }
	const tainted = "node-role.kubernetes.io/control-plane"
	const ports = "node(s) didn't have free ports for the requested pod ports"
	for _, c := range []struct {
		name  string
		pod   *st.PodWrapper
		nodes []*framework.NodeInfo
		want  string
	}{{
		name:  "a request larger than the node: unresolvable",
		pod:   pod("p").Req("cpu", "1000"),
		nodes: []*framework.NodeInfo{nodeWith(small("n1"))},
		want:  "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
	}, {
		name:  "a node full of pods of the same priority: no victims",
		pod:   pod("p").Req("cpu", "2"),
		nodes: []*framework.NodeInfo{nodeWith(small("n1"), pod("a").Req("cpu", "3"))},
		want:  "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
	}, {
		name:  "no priority is priority 0: no victims",
		pod:   pod("p").Req("cpu", "2").Priority(0),
		nodes: []*framework.NodeInfo{nodeWith(small("n1"), pod("a").Req("cpu", "3"))},
		want:  "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
	}, {
		name:  "pods of higher priority are no victims",
		pod:   pod("p").Req("cpu", "2").Priority(10),
		nodes: []*framework.NodeInfo{nodeWith(small("n1"), pod("a").Req("cpu", "3").Priority(100))},
		want:  "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
	}, {
		name:  "evicting the lower-priority pods would make room, but skiff does not evict: the node's reasons",
		pod:   pod("p").Req("cpu", "2"),
		nodes: []*framework.NodeInfo{nodeWith(small("n1"), pod("a").Req("cpu", "3").Priority(-1))},
		want:  "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 Insufficient cpu.",
	}, {
		name: "still no room without the lower-priority pods: the reasons the filters give then",
		pod:  pod("p").Req("cpu", "3", "memory", "1Gi").Priority(10),
		nodes: []*framework.NodeInfo{nodeWith(small("n1"),
			pod("high").Req("cpu", "2").Priority(100), pod("low").Req("cpu", "1", "memory", "3500Mi"))},
		want: "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory. preemption: 0/1 nodes are available: 1 Insufficient cpu.",
	}, {
		name:  "a host port held by a pod of the same priority",
		pod:   pod("p").HostPort(80),
		nodes: []*framework.NodeInfo{nodeWith(small("n1"), pod("a").HostPort(80))},
		want:  "0/1 nodes are available: 1 " + ports + ". preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
	}, {
		name:  "a host port held by a lower-priority pod",
		pod:   pod("p").HostPort(80).Priority(5),
		nodes: []*framework.NodeInfo{nodeWith(small("n1"), pod("a").HostPort(80))},
		want:  "0/1 nodes are available: 1 " + ports + ". preemption: 0/1 nodes are available: 1 " + ports + ".",
	}, {
		name: "taints, selectors, cordons: not helpful",
		pod:  pod("p").NodeSelector("disk", "ssd"),
		nodes: []*framework.NodeInfo{
			nodeWith(small("n1").Label("disk", "ssd").Taint(tainted, "", corev1.TaintEffectNoSchedule)),
			nodeWith(small("n2")),
			nodeWith(small("n3").Label("disk", "ssd").Unschedulable()),
		},
		want: "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint(s), 1 node(s) were unschedulable. " +
			"preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
	}, {
		name:  "preemptionPolicy Never",
		pod:   pod("p").Req("cpu", "2").Priority(10).PreemptNever(),
		nodes: []*framework.NodeInfo{nodeWith(small("n1"), pod("a").Req("cpu", "3"))},
		want:  "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.",
	}, {
		name:  "mixed, sorted as strings: 10 before 2",
		pod:   pod("p").Req("cpu", "2"),
		nodes: mixedNodes(small),
		want: "0/12 nodes are available: 10 Insufficient cpu, 2 node(s) had untolerated taint(s). " +
			"preemption: 0/12 nodes are available: 10 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
	}} {
		a := newTestAlgorithm(t, 0, 1)
		_, err := a.schedule(t.Context(), framework.NewCycleState(), framework.NewPodInfo(c.pod.Obj()), cache.NewSnapshotOf(c.nodes...))
		if err == nil || err.Error() != c.want {
			t.Errorf("%s:\n got %v\nwant %s", c.name, err, c.want)
		}
	}
}

// mixedNodes are ten full nodes and two tainted ones.
func mixedNodes(small func(string) *st.NodeWrapper) []*framework.NodeInfo {
	var out []*framework.NodeInfo
	for i := range 10 {
		name := fmt.Sprintf("full%d", i)
		out = append(out, nodeWith(small(name), st.MakePod().Name("a"+name).Req("cpu", "3")))
	}
	for i := range 2 {
		out = append(out, nodeWith(small(fmt.Sprintf("cp%d", i)).Taint("node-role.kubernetes.io/control-plane", "", corev1.TaintEffectNoSchedule)))
	}
	return out
}
