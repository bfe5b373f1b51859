package deployment

import (
	"maps"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

func TestSetNewRSAnnotations(t *testing.T) {
	d := makeDeployment("web", 4).obj()
	d.Annotations = map[string]string{
		"kubernetes.io/change-cause":                       "kubectl set image",
		"kubectl.kubernetes.io/last-applied-configuration": "{}",
		RevisionAnnotation:                                 "7",
	}
	tests := []struct {
		name   string
		rs     *appsv1.ReplicaSet
		rev    int64
		exists bool
		want   map[string]string
	}{
		{"a replica set about to be created", makeRS("new", 0, 0).obj(), 3, false, map[string]string{
			RevisionAnnotation: "3", "kubernetes.io/change-cause": "kubectl set image",
			DesiredReplicasAnnotation: "4", MaxReplicasAnnotation: "5"}},
		{"an old replica set that is new again keeps its history",
			makeRS("back", 0, 0).revision(1).sized(4, 5).obj(), 3, true, map[string]string{
				RevisionAnnotation: "3", RevisionHistoryAnnotation: "1", "kubernetes.io/change-cause": "kubectl set image",
				DesiredReplicasAnnotation: "4", MaxReplicasAnnotation: "5"}},
		{"history grows", makeRS("back", 0, 0).revision(3).annotate(RevisionHistoryAnnotation, "1").obj(), 5, true,
			map[string]string{RevisionAnnotation: "5", RevisionHistoryAnnotation: "1,3", "kubernetes.io/change-cause": "kubectl set image"}},
		{"a higher revision is kept", makeRS("cur", 0, 0).revision(9).obj(), 4, true,
			map[string]string{RevisionAnnotation: "9", "kubernetes.io/change-cause": "kubectl set image"}},
	}
	for _, tt := range tests {
		setNewRSAnnotations(d, tt.rs, tt.rev, tt.exists)
		if !maps.Equal(tt.rs.Annotations, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, tt.rs.Annotations, tt.want)
		}
	}
	rs := makeRS("x", 0, 0).obj()
	setNewRSAnnotations(d, rs, 2, false)
	if setNewRSAnnotations(d, rs, 2, true) {
		t.Errorf("second pass reported a change")
	}
}

func TestAppendHistory(t *testing.T) {
	if got := appendHistory("", "4"); got != "4" {
		t.Errorf("got %q", got)
	}
	long := strings.Repeat("12345,", 400) + "1"
	got := appendHistory(long, "99")
	if len(got) > maxHistoryChars || !strings.HasSuffix(got, ",1,99") {
		t.Errorf("history not trimmed from the oldest end: len %d, ends %q", len(got), got[len(got)-10:])
	}
}

func TestSplitNewOld(t *testing.T) {
	d := makeDeployment("web", 3).image("v2").obj()
	d.Spec.Template.Labels = map[string]string{"app": "web"}
	a := makeRS("a", 0, 1).image("v1").obj()
	b := makeRS("b", 1, 1).image("v2").obj()
	c := makeRS("c", 2, 1).image("v2").obj()
	newRS, old := splitNewOld(d, []*appsv1.ReplicaSet{c, a, b})
	if newRS != b {
		t.Fatalf("new replica set: got %v, want the oldest matching template (b)", newRS)
	}
	if len(old) != 2 || old[0] != a || old[1] != c {
		t.Errorf("old: got %v", old)
	}
	if maxRevision([]*appsv1.ReplicaSet{makeRS("x", 0, 0).revision(2).obj(), makeRS("y", 0, 0).revision(11).obj(), a}) != 11 {
		t.Errorf("maxRevision")
	}
}
