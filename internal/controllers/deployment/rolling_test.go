package deployment

import (
	"fmt"
	"maps"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func TestFenceposts(t *testing.T) {
	tests := []struct {
		replicas             int32
		surge, unavailable   intstr.IntOrString
		wantSurge, wantUnavl int32
	}{
		{10, pct("25%"), pct("25%"), 3, 2}, // surge rounds up, unavailable down
		{1, pct("25%"), pct("25%"), 1, 0},
		{4, num(0), num(1), 0, 1},
		{3, num(1), num(0), 1, 0},
		{5, num(0), num(0), 0, 1}, // invalid, but the rollout must move
		{3, pct("100%"), pct("100%"), 3, 3},
	}
	for _, tt := range tests {
		d := makeDeployment("web", tt.replicas).rolling(tt.surge, tt.unavailable).obj()
		s, u := fenceposts(d)
		if s != tt.wantSurge || u != tt.wantUnavl {
			t.Errorf("replicas %d, surge %v, unavailable %v: got (%d, %d), want (%d, %d)",
				tt.replicas, tt.surge.String(), tt.unavailable.String(), s, u, tt.wantSurge, tt.wantUnavl)
		}
	}
	if got := maxUnavailable(makeDeployment("web", 2).rolling(num(0), num(5)).obj()); got != 2 {
		t.Errorf("maxUnavailable above replicas: got %d, want 2", got)
	}
	rec := makeDeployment("web", 5).recreate().obj()
	if maxSurge(rec) != 0 || maxUnavailable(rec) != 0 {
		t.Errorf("Recreate has no surge or unavailability budget")
	}
}

func TestNewRSTarget(t *testing.T) {
	tests := []struct {
		name string
		d    *appsv1.Deployment
		old  []*appsv1.ReplicaSet
		new  int32
		want int32
	}{
		{"first rollout takes the surge", makeDeployment("web", 3).rolling(num(1), num(0)).obj(),
			[]*appsv1.ReplicaSet{makeRS("old", 0, 3).obj()}, 0, 1},
		{"percent surge", makeDeployment("web", 10).obj(),
			[]*appsv1.ReplicaSet{makeRS("old", 0, 10).obj()}, 0, 3},
		{"no room above replicas+surge", makeDeployment("web", 3).rolling(num(1), num(0)).obj(),
			[]*appsv1.ReplicaSet{makeRS("old", 0, 3).obj()}, 1, 1},
		{"room after old shrank", makeDeployment("web", 3).rolling(num(1), num(0)).obj(),
			[]*appsv1.ReplicaSet{makeRS("old", 0, 2).obj()}, 1, 2},
		{"never above replicas", makeDeployment("web", 3).rolling(num(5), num(0)).obj(),
			[]*appsv1.ReplicaSet{makeRS("old", 0, 1).obj()}, 2, 3},
		{"scaled down to replicas", makeDeployment("web", 2).obj(), nil, 5, 2},
		{"no old replica sets", makeDeployment("web", 4).rolling(num(1), num(1)).obj(), nil, 0, 4},
		{"Recreate takes all", makeDeployment("web", 4).recreate().obj(),
			[]*appsv1.ReplicaSet{makeRS("old", 0, 4).obj()}, 0, 4},
	}
	for _, tt := range tests {
		newRS := makeRS("new", 5, tt.new).obj()
		if got := newRSTarget(tt.d, withNew(tt.old, newRS), newRS); got != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestScaleDownOld(t *testing.T) {
	tests := []struct {
		name string
		d    *appsv1.Deployment
		old  []*appsv1.ReplicaSet
		new  *appsv1.ReplicaSet
		want map[string]int32
	}{
		{"maxUnavailable 0 waits for the new pod",
			makeDeployment("web", 3).rolling(num(1), num(0)).obj(),
			[]*appsv1.ReplicaSet{makeRS("old", 0, 3).obj()},
			makeRS("new", 5, 1).available(0).obj(), map[string]int32{}},
		{"maxUnavailable 0 swaps one for one",
			makeDeployment("web", 3).rolling(num(1), num(0)).obj(),
			[]*appsv1.ReplicaSet{makeRS("old", 0, 3).obj()},
			makeRS("new", 5, 1).obj(), map[string]int32{"old": 2}},
		{"maxUnavailable lets pods go before new ones exist",
			makeDeployment("web", 4).rolling(num(0), num(2)).obj(),
			[]*appsv1.ReplicaSet{makeRS("old", 0, 4).obj()},
			makeRS("new", 5, 0).obj(), map[string]int32{"old": 2}},
		{"unhealthy pods are cleaned first, healthy ones kept",
			makeDeployment("web", 4).rolling(num(0), num(1)).obj(),
			[]*appsv1.ReplicaSet{makeRS("old1", 0, 2).available(0).obj(), makeRS("old2", 1, 2).obj()},
			makeRS("new", 5, 0).obj(), map[string]int32{"old1": 1}},
		{"all unhealthy pods go when the budget allows",
			makeDeployment("web", 4).rolling(num(0), num(2)).obj(),
			[]*appsv1.ReplicaSet{makeRS("old2", 1, 2).obj(), makeRS("old1", 0, 2).available(0).obj()},
			makeRS("new", 5, 0).obj(), map[string]int32{"old1": 0}},
		{"oldest replica set shrinks first",
			makeDeployment("web", 4).rolling(num(0), num(2)).obj(),
			[]*appsv1.ReplicaSet{makeRS("old2", 1, 3).obj(), makeRS("old1", 0, 1).obj()},
			makeRS("new", 5, 0).obj(), map[string]int32{"old1": 0, "old2": 2}},
		{"unavailable new pods use up the budget",
			makeDeployment("web", 4).rolling(num(1), num(1)).obj(),
			[]*appsv1.ReplicaSet{makeRS("old", 0, 3).obj()},
			makeRS("new", 5, 2).available(0).obj(), map[string]int32{}},
		{"one available pod above the minimum goes",
			makeDeployment("web", 4).rolling(num(1), num(1)).obj(),
			[]*appsv1.ReplicaSet{makeRS("old", 0, 4).obj()},
			makeRS("new", 5, 1).available(0).obj(), map[string]int32{"old": 3}},
		{"a lagging status does not count pods already let go",
			makeDeployment("web", 3).rolling(num(1), num(0)).obj(),
			[]*appsv1.ReplicaSet{makeRS("old", 0, 2).available(3).statusReplicas(3).obj()},
			makeRS("new", 5, 2).obj(), map[string]int32{"old": 1}},
		{"nothing old", makeDeployment("web", 3).obj(), []*appsv1.ReplicaSet{makeRS("old", 0, 0).obj()},
			makeRS("new", 5, 3).obj(), map[string]int32{}},
	}
	for _, tt := range tests {
		got := sizes(scaleDownOld(tt.d, tt.old, tt.new))
		if !maps.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestRollingInvariants drives whole rolling updates with the planner over
// many shapes: pods of a resized replica set become available at once
// (after a one-step lag for new pods), and at every step the pods stay
// within replicas+maxSurge and the available ones at or above
// replicas-maxUnavailable, until everything runs the new template.
func TestRollingInvariants(t *testing.T) {
	surges := []intstr.IntOrString{num(0), num(1), num(3), pct("25%"), pct("50%")}
	unavails := []intstr.IntOrString{num(0), num(1), num(2), pct("25%"), pct("100%")}
	for n := int32(1); n <= 12; n++ {
		for _, s := range surges {
			for _, u := range unavails {
				d := makeDeployment("web", n).rolling(s, u).obj()
				if s == num(0) && u == num(0) {
					continue // rejected by validation
				}
				t.Run(fmt.Sprintf("n=%d/surge=%s/unavailable=%s", n, s.String(), u.String()), func(t *testing.T) {
					simulateRolling(t, d)
				})
			}
		}
	}
}

func simulateRolling(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	n := desired(d)
	surge, unavailable := fenceposts(d)
	minAvailable := n - min(unavailable, n)
	old := makeRS("old", 0, n).obj()
	newRS := makeRS("new", 1, 0).available(0).obj()
	for step := 0; step < 4*int(n)+10; step++ {
		// The new replica set's status catches up with its size one step late.
		newRS.Status.AvailableReplicas = min(newRS.Status.AvailableReplicas+n, replicas(newRS))
		if to := newRSTarget(d, []*appsv1.ReplicaSet{old, newRS}, newRS); to != replicas(newRS) {
			newRS.Spec.Replicas = ptr.To(to)
		} else {
			for _, r := range scaleDownOld(d, active([]*appsv1.ReplicaSet{old}), newRS) {
				old.Spec.Replicas = ptr.To(r.to)
				old.Status.AvailableReplicas = min(old.Status.AvailableReplicas, r.to)
			}
		}
		if total := replicas(old) + replicas(newRS); total > n+surge {
			t.Fatalf("step %d: %d pods, above %d+%d", step, total, n, surge)
		}
		if avail := old.Status.AvailableReplicas + min(newRS.Status.AvailableReplicas, replicas(newRS)); avail < minAvailable {
			t.Fatalf("step %d: %d available, below %d", step, avail, minAvailable)
		}
		if replicas(old) == 0 && replicas(newRS) == n {
			return
		}
	}
	t.Fatalf("rollout did not finish: old %d, new %d", replicas(old), replicas(newRS))
}
