package statefulset

import (
	"encoding/json"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestRevisionData(t *testing.T) {
	set := testSet(1)
	data, err := revisionData(set)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), `{"spec":{"template":{"$patch":"replace","metadata":{"labels":{"app":"web"}},"spec":{"containers":[`) {
		t.Errorf("data = %s", data)
	}
	var probe map[string]any
	if err := json.Unmarshal(data, &probe); err != nil || len(probe) != 1 {
		t.Errorf("data holds more than spec: %v %v", probe, err)
	}
	r, err := newRevision(set, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	hash := r.Labels[hashLabel]
	if r.Name != "web-"+hash || r.Revision != 3 || r.Labels["app"] != "web" || !metav1.IsControlledBy(r, set) {
		t.Errorf("revision %s: labels %v revision %d owners %v", r.Name, r.Labels, r.Revision, r.OwnerReferences)
	}
	r2, _ := newRevision(set, 3, 1)
	if r2.Name == r.Name {
		t.Error("collision count does not change the name")
	}
	back, err := applyRevision(testSet(1, func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = "other" }), r)
	if err != nil {
		t.Fatal(err)
	}
	if back.Spec.Template.Spec.Containers[0].Image != "nginx" {
		t.Errorf("applyRevision image = %q", back.Spec.Template.Spec.Containers[0].Image)
	}
}

func TestChooseUpdateRevision(t *testing.T) {
	v1 := testSet(1)
	v2 := testSet(1, func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = "nginx:2" })
	r1, _ := newRevision(v1, 1, 0)
	r2, _ := newRevision(v2, 2, 0)
	revs := []*appsv1.ControllerRevision{r1, r2}

	c, _ := chooseUpdateRevision(v2, revs, 0)
	if c.existing != r2 || c.renumber {
		t.Errorf("same as newest: %+v", c)
	}
	c, _ = chooseUpdateRevision(v1, revs, 0)
	if c.existing != r1 || !c.renumber || c.want.Revision != 3 {
		t.Errorf("rollback: existing %v renumber %v want %d", c.existing == r1, c.renumber, c.want.Revision)
	}
	v3 := testSet(1, func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = "nginx:3" })
	c, _ = chooseUpdateRevision(v3, revs, 0)
	if c.existing != nil || c.want.Revision != 3 {
		t.Errorf("new template: %+v", c)
	}
	if cur := currentRevisionOf(&appsv1.StatefulSet{Status: appsv1.StatefulSetStatus{CurrentRevision: r1.Name}}, revs, r2); cur != r1 {
		t.Error("current revision not found by name")
	}
	if cur := currentRevisionOf(&appsv1.StatefulSet{}, revs, r2); cur != r2 {
		t.Error("a set without current revision should start at the update revision")
	}
}

func TestRevisionsToPrune(t *testing.T) {
	var revs []*appsv1.ControllerRevision
	for i := range 6 {
		revs = append(revs, &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "r" + string(rune('0'+i))}, Revision: int64(i + 1)})
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{appsv1.StatefulSetRevisionLabel: "r0"}}}
	// r0 is used by a pod, r4 and r5 by the status: r1..r3 are dead; a
	// limit of 1 keeps only the newest of them.
	got := revisionsToPrune(revs, []*corev1.Pod{pod}, "r4", "r5", 1)
	if len(got) != 2 || got[0].Name != "r1" || got[1].Name != "r2" {
		t.Fatalf("prune = %v", got)
	}
	if got := revisionsToPrune(revs, nil, "r4", "r5", 10); len(got) != 0 {
		t.Fatalf("under the limit pruned %d", len(got))
	}
}
