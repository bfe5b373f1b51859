package deployment

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/controllers/ctrl"
)

func TestNewReplicaSetFor(t *testing.T) {
	d := makeDeployment("web", 4).rolling(num(1), num(0)).obj()
	d.Spec.MinReadySeconds = 5
	d.Annotations = map[string]string{"kubernetes.io/change-cause": "v2"}
	old := []*appsv1.ReplicaSet{makeRS("web-old", 0, 4).obj()}
	rs := newReplicaSetFor(d, old, 2)
	hash := ctrl.ComputeHash(&d.Spec.Template, nil)
	if rs.Name != "web-"+hash || rs.Namespace != "ns" {
		t.Errorf("name: got %s/%s, want ns/web-%s", rs.Namespace, rs.Name, hash)
	}
	for what, m := range map[string]map[string]string{"labels": rs.Labels, "selector": rs.Spec.Selector.MatchLabels,
		"template labels": rs.Spec.Template.Labels} {
		if m[hashLabel] != hash || m["app"] != "web" {
			t.Errorf("%s: got %v", what, m)
		}
	}
	if d.Spec.Template.Labels[hashLabel] != "" || d.Spec.Selector.MatchLabels[hashLabel] != "" {
		t.Errorf("the deployment was changed")
	}
	if replicas(rs) != 1 || rs.Spec.MinReadySeconds != 5 {
		t.Errorf("replicas %d, minReadySeconds %d: want 1 (the surge) and 5", replicas(rs), rs.Spec.MinReadySeconds)
	}
	if ref := metav1.GetControllerOf(rs); ref == nil || ref.UID != d.UID || ref.Kind != "Deployment" {
		t.Errorf("controller ref: got %+v", ref)
	}
	want := map[string]string{RevisionAnnotation: "2", DesiredReplicasAnnotation: "4", MaxReplicasAnnotation: "5",
		"kubernetes.io/change-cause": "v2"}
	for k, v := range want {
		if rs.Annotations[k] != v {
			t.Errorf("annotation %s: got %q, want %q", k, rs.Annotations[k], v)
		}
	}
	if !equalIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
		t.Errorf("the template differs from the deployment's beyond the hash label")
	}
	d.Status.CollisionCount = ptr.To[int32](1)
	if newReplicaSetFor(d, old, 2).Name == rs.Name {
		t.Errorf("a collision count does not change the name")
	}
}
