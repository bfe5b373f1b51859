package daemonset

import (
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestRollingLimits(t *testing.T) {
	tests := []struct {
		name              string
		unavail, surge    intstr.IntOrString
		desired           int
		wantUnav, wantSur int
	}{
		{"ints", intstr.FromInt32(2), intstr.FromInt32(0), 5, 2, 0},
		{"percent rounds up", intstr.FromString("10%"), intstr.FromString("0%"), 5, 1, 0},
		{"surge percent", intstr.FromInt32(0), intstr.FromString("50%"), 3, 0, 2},
		{"no nodes", intstr.FromString("25%"), intstr.FromInt32(0), 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, s, err := rollingLimits(makeDS("d").rolling(tt.unavail, tt.surge).obj(), tt.desired)
			if err != nil || u != tt.wantUnav || s != tt.wantSur {
				t.Errorf("rollingLimits = %d, %d, %v; want %d, %d", u, s, err, tt.wantUnav, tt.wantSur)
			}
		})
	}
	if u, s, _ := rollingLimits(makeDS("d").onDelete().obj(), 5); u != 0 || s != 0 {
		t.Errorf("OnDelete limits = %d, %d; want 0, 0", u, s)
	}
	if _, _, err := rollingLimits(makeDS("d").rolling(intstr.FromString("x%"), intstr.FromInt32(0)).obj(), 3); err == nil {
		t.Error("bad percentage: want an error")
	}
}

func nodesNamed(names ...string) []*corev1.Node {
	var out []*corev1.Node
	for _, n := range names {
		out = append(out, makeNode(n).obj())
	}
	return out
}

func byNodeOf(pods ...*corev1.Pod) map[string][]*corev1.Pod { return groupByNode(pods) }

func TestPlanRolloutWithoutSurge(t *testing.T) {
	old := func(name, node string) *corev1.Pod { return makePod(name, node, "h0", time.Hour).obj() }
	tests := []struct {
		name    string
		unavail intstr.IntOrString
		nodes   []*corev1.Node
		pods    []*corev1.Pod
		remove  []string
	}{
		{name: "all old and available: one at a time", unavail: intstr.FromInt32(1), nodes: nodesNamed("n1", "n2", "n3"),
			pods: []*corev1.Pod{old("a", "n1"), old("b", "n2"), old("c", "n3")}, remove: []string{"a"}},
		{name: "two at a time", unavail: intstr.FromInt32(2), nodes: nodesNamed("n1", "n2", "n3"),
			pods: []*corev1.Pod{old("a", "n1"), old("b", "n2"), old("c", "n3")}, remove: []string{"a", "b"}},
		{name: "percentage of desired nodes", unavail: intstr.FromString("50%"), nodes: nodesNamed("n1", "n2", "n3", "n4"),
			pods: []*corev1.Pod{old("a", "n1"), old("b", "n2"), old("c", "n3"), old("d", "n4")}, remove: []string{"a", "b"}},
		{name: "a new pod not yet available uses the budget", unavail: intstr.FromInt32(1), nodes: nodesNamed("n1", "n2", "n3"),
			pods: []*corev1.Pod{makePod("a", "n1", "h1", time.Second).notReady().obj(), old("b", "n2"), old("c", "n3")}},
		{name: "a node still without a pod uses the budget", unavail: intstr.FromInt32(1), nodes: nodesNamed("n1", "n2", "n3"),
			pods: []*corev1.Pod{old("b", "n2"), old("c", "n3")}},
		{name: "available new pods free the budget", unavail: intstr.FromInt32(1), nodes: nodesNamed("n1", "n2", "n3"),
			pods: []*corev1.Pod{makePod("a", "n1", "h1", time.Minute).obj(), old("b", "n2"), old("c", "n3")}, remove: []string{"b"}},
		{name: "unavailable old pods are always replaced", unavail: intstr.FromInt32(1), nodes: nodesNamed("n1", "n2", "n3"),
			pods: []*corev1.Pod{makePod("a", "n1", "h1", time.Second).notReady().obj(),
				makePod("b", "n2", "h0", time.Hour).notReady().obj(), old("c", "n3")},
			remove: []string{"b"}},
		{name: "done", unavail: intstr.FromInt32(1), nodes: nodesNamed("n1", "n2"),
			pods: []*corev1.Pod{makePod("a", "n1", "h1", time.Minute).obj(), makePod("b", "n2", "h1", time.Minute).obj()}},
		{name: "terminating pods are not counted as old", unavail: intstr.FromInt32(1), nodes: nodesNamed("n1", "n2"),
			pods: []*corev1.Pod{makePod("a", "n1", "h0", time.Hour).deleting().obj(), old("b", "n2")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := makeDS("d").rolling(tt.unavail, intstr.FromInt32(0)).obj()
			step, err := planRollout(ds, tt.nodes, byNodeOf(tt.pods...), "h1", metav1.NewTime(t0))
			if err != nil {
				t.Fatal(err)
			}
			if got := names(step.remove); !slices.Equal(got, append([]string{}, tt.remove...)) {
				t.Errorf("remove = %v, want %v", got, tt.remove)
			}
			if len(step.create) != 0 {
				t.Errorf("create = %v; without surge the core loop creates", step.create)
			}
		})
	}
}

func TestPlanRolloutMinReadySeconds(t *testing.T) {
	ds := makeDS("d").minReady(30).obj()
	pods := []*corev1.Pod{
		makePod("a", "n1", "h1", time.Minute).readyFor(10 * time.Second).obj(), // ready, not yet available
		makePod("b", "n2", "h0", time.Hour).obj(),
	}
	step, err := planRollout(ds, nodesNamed("n1", "n2"), byNodeOf(pods...), "h1", metav1.NewTime(t0))
	if err != nil {
		t.Fatal(err)
	}
	if len(step.remove) != 0 {
		t.Errorf("remove = %v; the new pod is not available for minReadySeconds yet", names(step.remove))
	}
	pods[0] = makePod("a", "n1", "h1", time.Minute).readyFor(31 * time.Second).obj()
	step, _ = planRollout(ds, nodesNamed("n1", "n2"), byNodeOf(pods...), "h1", metav1.NewTime(t0))
	if got := names(step.remove); !slices.Equal(got, []string{"b"}) {
		t.Errorf("remove = %v, want [b]", got)
	}
}

func TestPlanRolloutWithSurge(t *testing.T) {
	old := func(name, node string) *corev1.Pod { return makePod(name, node, "h0", time.Hour).obj() }
	tests := []struct {
		name   string
		surge  intstr.IntOrString
		nodes  []*corev1.Node
		pods   []*corev1.Pod
		create []string
		remove []string
	}{
		{name: "one new pod beside an old one", surge: intstr.FromInt32(1), nodes: nodesNamed("n1", "n2", "n3"),
			pods: []*corev1.Pod{old("a", "n1"), old("b", "n2"), old("c", "n3")}, create: []string{"n1"}},
		{name: "surge percentage", surge: intstr.FromString("50%"), nodes: nodesNamed("n1", "n2", "n3"),
			pods: []*corev1.Pod{old("a", "n1"), old("b", "n2"), old("c", "n3")}, create: []string{"n1", "n2"}},
		{name: "waiting for the surged pod", surge: intstr.FromInt32(1), nodes: nodesNamed("n1", "n2"),
			pods: []*corev1.Pod{old("a", "n1"), makePod("a2", "n1", "h1", time.Second).notReady().obj(), old("b", "n2")}},
		{name: "surged pod available: old goes, next node surges", surge: intstr.FromInt32(1), nodes: nodesNamed("n1", "n2"),
			pods:   []*corev1.Pod{old("a", "n1"), makePod("a2", "n1", "h1", time.Minute).obj(), old("b", "n2")},
			remove: []string{"a"}, create: []string{"n2"}},
		{name: "unavailable old pod is replaced beyond the limit", surge: intstr.FromInt32(1), nodes: nodesNamed("n1", "n2"),
			pods:   []*corev1.Pod{old("a", "n1"), makePod("a2", "n1", "h1", time.Second).notReady().obj(), makePod("b", "n2", "h0", time.Hour).notReady().obj()},
			create: []string{"n2"}},
		{name: "old unavailable pod on a node that no longer qualifies goes", surge: intstr.FromInt32(1), nodes: nodesNamed("n1"),
			pods:   []*corev1.Pod{old("a", "n1"), makePod("z", "gone", "h0", time.Hour).notReady().obj()},
			create: []string{"n1"}, remove: []string{"z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := makeDS("d").rolling(intstr.FromInt32(0), tt.surge).obj()
			step, err := planRollout(ds, tt.nodes, byNodeOf(tt.pods...), "h1", metav1.NewTime(t0))
			if err != nil {
				t.Fatal(err)
			}
			if got := names(step.remove); !slices.Equal(got, append([]string{}, tt.remove...)) {
				t.Errorf("remove = %v, want %v", got, tt.remove)
			}
			if got := append([]string{}, step.create...); !slices.Equal(got, append([]string{}, tt.create...)) {
				t.Errorf("create = %v, want %v", got, tt.create)
			}
		})
	}
}
