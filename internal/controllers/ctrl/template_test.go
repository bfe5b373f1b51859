package ctrl

import (
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func testTemplate() *corev1.PodTemplateSpec {
	t := &corev1.PodTemplateSpec{}
	t.Labels = map[string]string{"app": "web", "tier": "front"}
	t.Annotations = map[string]string{"note": "x"}
	t.Finalizers = []string{"example.com/keep"}
	t.Spec.Containers = []corev1.Container{{Name: "c", Image: "nginx:1"}}
	t.Spec.RestartPolicy = corev1.RestartPolicyAlways
	return t
}

func TestPodFromTemplate(t *testing.T) {
	tmpl := testTemplate()
	owner := testOwner(false)
	pod := PodFromTemplate(tmpl, owner, rsKind)
	if pod.GenerateName != "web-" || pod.Name != "" || pod.Namespace != "ns" {
		t.Errorf("name %q generateName %q namespace %q; want generateName web- in ns", pod.Name, pod.GenerateName, pod.Namespace)
	}
	if !reflect.DeepEqual(pod.Labels, tmpl.Labels) || !reflect.DeepEqual(pod.Annotations, tmpl.Annotations) ||
		!reflect.DeepEqual(pod.Finalizers, tmpl.Finalizers) {
		t.Errorf("metadata not copied: %+v", pod.ObjectMeta)
	}
	if !reflect.DeepEqual(pod.Spec, tmpl.Spec) {
		t.Errorf("spec = %+v, want the template's", pod.Spec)
	}
	if len(pod.OwnerReferences) != 1 {
		t.Fatalf("ownerReferences = %v", pod.OwnerReferences)
	}
	ref := pod.OwnerReferences[0]
	if ref.APIVersion != "apps/v1" || ref.Kind != "ReplicaSet" || ref.Name != "web" || ref.UID != "owner-uid" ||
		!ptr.Deref(ref.Controller, false) || !ptr.Deref(ref.BlockOwnerDeletion, false) {
		t.Errorf("ownerReference = %+v", ref)
	}
	// The pod must not share storage with the template (which is the
	// informer's cached owner).
	pod.Labels["app"] = "changed"
	pod.Annotations["note"] = "changed"
	pod.Finalizers[0] = "changed"
	pod.Spec.Containers[0].Image = "changed"
	if tmpl.Labels["app"] != "web" || tmpl.Annotations["note"] != "x" || tmpl.Finalizers[0] != "example.com/keep" ||
		tmpl.Spec.Containers[0].Image != "nginx:1" {
		t.Errorf("changing the pod changed the template: %+v", tmpl)
	}
}

func TestPodFromTemplateNilMaps(t *testing.T) {
	pod := PodFromTemplate(&corev1.PodTemplateSpec{}, testOwner(false), rsKind)
	if pod.Labels != nil || pod.Annotations != nil {
		t.Errorf("labels %v annotations %v; want nil", pod.Labels, pod.Annotations)
	}
}

func TestGenerateNamePrefix(t *testing.T) {
	// A generateName is validated with its trailing dash masked and
	// truncated by the API server before the random suffix is added, so
	// even a name of the maximum length keeps its dash, as upstream's.
	long253 := strings.Repeat("a", 253)
	long254 := strings.Repeat("a", 254)
	for _, c := range []struct{ name, want string }{
		{"web", "web-"},
		{"a", "a-"},
		{long253, long253 + "-"},
		{long254, long254}, // too long even as a prefix: left alone
		{"Web", "Web"},     // invalid anyway: left alone
	} {
		if got := GenerateNamePrefix(c.name); got != c.want {
			t.Errorf("GenerateNamePrefix(%.10q… %d chars) = %.10q… %d chars, want %d chars", c.name, len(c.name), got, len(got), len(c.want))
		}
	}
}

func TestComputeHash(t *testing.T) {
	a := testTemplate()
	h := ComputeHash(a, nil)
	if h == "" {
		t.Fatal("empty hash")
	}
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	for _, r := range h {
		if !strings.ContainsRune(alphabet, r) {
			t.Fatalf("hash %q has %q, outside the safe alphabet", h, r)
		}
	}
	if got := ComputeHash(a.DeepCopy(), nil); got != h {
		t.Errorf("same template hashed %q then %q", h, got)
	}
	// Map order must not matter.
	b := testTemplate()
	b.Labels = map[string]string{}
	b.Labels["tier"] = "front"
	b.Labels["app"] = "web"
	if got := ComputeHash(b, nil); got != h {
		t.Errorf("equal templates hashed differently: %q vs %q", h, got)
	}

	seen := map[string]string{"nil": h}
	add := func(what, hash string) {
		t.Helper()
		for k, v := range seen {
			if v == hash {
				t.Errorf("%s hashes as %s: %q", what, k, hash)
			}
		}
		seen[what] = hash
	}
	add("collision 0", ComputeHash(a, ptr.To[int32](0)))
	add("collision 1", ComputeHash(a, ptr.To[int32](1)))
	add("collision 2", ComputeHash(a, ptr.To[int32](2)))
	c := testTemplate()
	c.Spec.Containers[0].Image = "nginx:2"
	add("new image", ComputeHash(c, nil))
	d := testTemplate()
	d.Labels["tier"] = "back"
	add("new label", ComputeHash(d, nil))
	if got := ComputeHash(a, ptr.To[int32](1)); got != seen["collision 1"] {
		t.Errorf("collision 1 not stable: %q vs %q", got, seen["collision 1"])
	}
}
