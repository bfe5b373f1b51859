package deployment

import (
	"maps"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

func TestScalePlan(t *testing.T) {
	tests := []struct {
		name string
		d    *appsv1.Deployment
		new  *appsv1.ReplicaSet
		old  []*appsv1.ReplicaSet
		want map[string]int32
	}{
		{"one active replica set takes the new size",
			makeDeployment("web", 5).obj(), makeRS("new", 1, 3).sized(3, 4).obj(), nil,
			map[string]int32{"new": 5}},
		{"the only active one may be old",
			makeDeployment("web", 5).obj(), makeRS("new", 1, 0).obj(), []*appsv1.ReplicaSet{makeRS("old", 0, 3).obj()},
			map[string]int32{"old": 5}},
		{"no active: the newest takes it",
			makeDeployment("web", 2).obj(), nil, []*appsv1.ReplicaSet{makeRS("a", 0, 0).obj(), makeRS("b", 1, 0).obj()},
			map[string]int32{"b": 2}},
		{"already at size",
			makeDeployment("web", 3).obj(), makeRS("new", 1, 3).obj(), nil, map[string]int32{}},
		// The example of the Deployment documentation: 10 replicas,
		// maxSurge 3, maxUnavailable 2, a stuck rollout at 8 old and 5 new
		// is scaled to 15: 3 more old and 2 more new.
		{"proportional scale up",
			makeDeployment("web", 15).rolling(num(3), num(2)).obj(),
			makeRS("new", 1, 5).sized(10, 13).available(0).obj(),
			[]*appsv1.ReplicaSet{makeRS("old", 0, 8).sized(10, 13).obj()},
			map[string]int32{"old": 11, "new": 7}},
		{"proportional scale down",
			makeDeployment("web", 10).rolling(num(3), num(2)).obj(),
			makeRS("new", 1, 7).sized(15, 18).available(0).obj(),
			[]*appsv1.ReplicaSet{makeRS("old", 0, 11).sized(15, 18).obj()},
			map[string]int32{"old": 8, "new": 5}},
		{"leftovers go to the largest, newest first on a tie",
			makeDeployment("web", 3).rolling(num(1), num(0)).obj(),
			makeRS("c", 2, 1).sized(2, 3).available(0).obj(),
			[]*appsv1.ReplicaSet{makeRS("a", 0, 1).sized(2, 3).obj(), makeRS("b", 1, 1).sized(2, 3).obj()},
			map[string]int32{"a": 1, "b": 1, "c": 2}},
		{"scale to zero empties every replica set",
			makeDeployment("web", 0).obj(),
			makeRS("new", 1, 2).sized(4, 5).available(0).obj(),
			[]*appsv1.ReplicaSet{makeRS("old", 0, 3).sized(4, 5).obj()},
			map[string]int32{"old": 0, "new": 0}},
		{"saturated new replica set: old ones go",
			makeDeployment("web", 3).obj(),
			makeRS("new", 1, 3).sized(3, 4).obj(),
			[]*appsv1.ReplicaSet{makeRS("old", 0, 1).sized(3, 4).obj()},
			map[string]int32{"old": 0}},
		{"Recreate does not spread",
			makeDeployment("web", 6).recreate().obj(),
			makeRS("new", 1, 2).sized(3, 3).obj(),
			[]*appsv1.ReplicaSet{makeRS("old", 0, 1).sized(3, 3).obj()},
			map[string]int32{}},
	}
	for _, tt := range tests {
		got := sizes(scalePlan(tt.d, tt.new, tt.old))
		if !maps.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestIsScalingEvent(t *testing.T) {
	d := makeDeployment("web", 5).obj()
	rs := makeRS("new", 0, 3).sized(3, 4)
	rs.rs.Spec.Template = d.Spec.Template
	if !isScalingEvent(d, []*appsv1.ReplicaSet{rs.obj()}) {
		t.Errorf("replicas 5 against desired-replicas 3 is a scaling event")
	}
	rs.sized(5, 7)
	if isScalingEvent(d, []*appsv1.ReplicaSet{rs.obj()}) {
		t.Errorf("replicas match desired-replicas: not a scaling event")
	}
	idle := makeRS("idle", 0, 0).sized(2, 3).obj()
	if isScalingEvent(d, []*appsv1.ReplicaSet{rs.obj(), idle}) {
		t.Errorf("inactive replica sets do not count")
	}
}
