package daemonset

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

func TestComputeStatus(t *testing.T) {
	ds := makeDS("d").nodeSelector("role", "worker").minReady(30).obj()
	ds.Status.ObservedGeneration = 4
	worker := func(name string) *corev1.Node { return makeNode(name).label("role", "worker").obj() }
	nodes := []*corev1.Node{worker("n1"), worker("n2"), worker("n3"), worker("n4"), worker("n5"), makeNode("other").obj()}
	pods := []*corev1.Pod{
		makePod("a", "n1", "h1", time.Hour).obj(),                              // ready, available, updated
		makePod("b", "n2", "h0", time.Hour).notReady().obj(),                   // old, not ready
		makePod("c", "n3", "h1", time.Minute).readyFor(10 * time.Second).obj(), // ready, not yet available
		makePod("d-old", "n4", "h0", time.Hour).obj(),                          // the oldest stands for n4
		makePod("d-new", "n4", "h1", time.Minute).obj(),                        //
		makePod("x", "other", "h1", time.Hour).obj(),                           // misscheduled
		makePod("y", "gone", "h1", time.Hour).unscheduled().obj(),              // node gone: not counted
	}
	got := computeStatus(ds, nodes, groupByNode(pods), "h1", metav1.NewTime(t0))
	want := appsv1.DaemonSetStatus{
		DesiredNumberScheduled: 5, CurrentNumberScheduled: 4, NumberMisscheduled: 1,
		NumberReady: 3, NumberAvailable: 2, NumberUnavailable: 3, UpdatedNumberScheduled: 2,
		ObservedGeneration: 4,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("status =\n %+v\nwant\n %+v", got, want)
	}
}

func TestRevisionData(t *testing.T) {
	a := makeDS("d").obj()
	b := makeDS("d").obj()
	b.Annotations["unrelated"] = "x"
	b.Spec.MinReadySeconds = 5
	da, err := revisionData(a)
	if err != nil {
		t.Fatal(err)
	}
	db, _ := revisionData(b)
	if string(da) != string(db) {
		t.Errorf("changes outside the template changed the data:\n%s\n%s", da, db)
	}
	b.Spec.Template.Spec.Containers[0].Image = "img:2"
	if db, _ = revisionData(b); string(da) == string(db) {
		t.Error("a template change did not change the data")
	}
	var decoded struct {
		Spec struct {
			Template map[string]any `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(da, &decoded); err != nil || decoded.Spec.Template["$patch"] != "replace" {
		t.Fatalf("data %s: want spec.template with $patch replace (%v)", da, err)
	}
	// Applied to the changed DaemonSet, the data restores the first template.
	cur, _ := json.Marshal(b)
	undone, err := strategicpatch.StrategicMergePatch(cur, da, &appsv1.DaemonSet{})
	if err != nil {
		t.Fatal(err)
	}
	var back appsv1.DaemonSet
	if err := json.Unmarshal(undone, &back); err != nil {
		t.Fatal(err)
	}
	if img := back.Spec.Template.Spec.Containers[0].Image; img != "img" {
		t.Errorf("after undo image = %q, want img", img)
	}
}

func TestPrunable(t *testing.T) {
	rev := func(name string, n int64, hash string) *appsv1.ControllerRevision {
		return &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: name,
			Labels: map[string]string{appsv1.DefaultDaemonSetUniqueLabelKey: hash}}, Revision: n}
	}
	old := []*appsv1.ControllerRevision{rev("r3", 3, "h3"), rev("r1", 1, "h1"), rev("r2", 2, "h2"), rev("r4", 4, "h4")}
	// r1 is still worn by a pod, so r2 and r3 go to leave two.
	pods := []*corev1.Pod{makePod("p", "n1", "h1", 0).obj()}
	got := prunable(old, 2, pods)
	var gotNames []string
	for _, r := range got {
		gotNames = append(gotNames, r.Name)
	}
	if !slices.Equal(gotNames, []string{"r2", "r3"}) {
		t.Errorf("prunable = %v, want [r2 r3]", gotNames)
	}
	if got := prunable(old, 10, pods); len(got) != 0 {
		t.Errorf("under the limit: prunable = %d revisions", len(got))
	}
}

func TestNodeChangeMatters(t *testing.T) {
	base := makeNode("n1").obj()
	base.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.NewTime(t0)}}
	beat := base.DeepCopy()
	beat.ResourceVersion = "2"
	beat.Status.Conditions[0].LastHeartbeatTime = metav1.NewTime(t0.Add(time.Minute))
	if nodeChangeMatters(base, beat) {
		t.Error("a heartbeat should not matter")
	}
	labelled := beat.DeepCopy()
	labelled.Labels["x"] = "y"
	if !nodeChangeMatters(base, labelled) {
		t.Error("a label change should matter")
	}
	notReady := beat.DeepCopy()
	notReady.Status.Conditions[0].Status = corev1.ConditionFalse
	if !nodeChangeMatters(base, notReady) {
		t.Error("readiness change should matter")
	}
}
