package statefulset

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestParentAndOrdinal(t *testing.T) {
	cases := []struct {
		name    string
		parent  string
		ordinal int
	}{
		{"web-0", "web", 0},
		{"web-12", "web", 12},
		{"my-web-3", "my-web", 3},
		{"web", "", -1},
		{"web-x", "", -1},
		{"web-99999999999", "web", -1},
	}
	for _, tc := range cases {
		p, o := parentAndOrdinal(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: tc.name}})
		if p != tc.parent || o != tc.ordinal {
			t.Errorf("%s: got (%q, %d), want (%q, %d)", tc.name, p, o, tc.parent, tc.ordinal)
		}
	}
	set := testSet(1)
	if isMember(set, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "webby-0"}}) {
		t.Error("webby-0 counted as a member of web")
	}
}

func TestNewPod(t *testing.T) {
	set := testSet(3)
	set.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "data"}, {Name: "scratch"}}
	p := newPod(set, 2, "web-abc")
	if p.Name != "web-2" || p.Namespace != "ns" || p.Spec.Hostname != "web-2" || p.Spec.Subdomain != "nginx" {
		t.Errorf("identity: name %q ns %q hostname %q subdomain %q", p.Name, p.Namespace, p.Spec.Hostname, p.Spec.Subdomain)
	}
	wantLabels := map[string]string{"app": "web", appsv1.StatefulSetPodNameLabel: "web-2",
		appsv1.PodIndexLabel: "2", appsv1.StatefulSetRevisionLabel: "web-abc"}
	for k, v := range wantLabels {
		if p.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, p.Labels[k], v)
		}
	}
	if ref := metav1.GetControllerOf(p); ref == nil || ref.UID != set.UID || ref.Kind != "StatefulSet" {
		t.Errorf("controller ref = %+v", ref)
	}
	if len(p.Spec.Volumes) != 2 || p.Spec.Volumes[0].Name != "data" || p.Spec.Volumes[0].PersistentVolumeClaim == nil ||
		p.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "data-web-2" || p.Spec.Volumes[1].Name != "scratch" {
		t.Errorf("volumes = %+v", p.Spec.Volumes)
	}
	if set.Spec.Template.Labels[appsv1.StatefulSetPodNameLabel] != "" {
		t.Error("newPod changed the set's template")
	}
	if !identityMatches(set, p) {
		t.Error("new pod does not match its identity")
	}
	delete(p.Labels, appsv1.PodIndexLabel)
	if identityMatches(set, p) {
		t.Error("pod without index label matches")
	}
	setIdentity(set, p)
	if !identityMatches(set, p) {
		t.Error("setIdentity did not restore the identity")
	}
}

func TestClaimsFor(t *testing.T) {
	set := testSet(3)
	claims := claimsFor(set, newPod(set, 1, "r"))
	if len(claims) != 1 {
		t.Fatalf("claims = %d, want 1", len(claims))
	}
	c := claims[0]
	if c.Name != "data-web-1" || c.Namespace != "ns" || c.Labels["app"] != "web" || c.Labels["tier"] != "db" {
		t.Errorf("claim = %s/%s labels %v", c.Namespace, c.Name, c.Labels)
	}
	if _, ok := set.Spec.VolumeClaimTemplates[0].Labels["app"]; ok {
		t.Error("claimsFor changed the set's claim template")
	}
}
