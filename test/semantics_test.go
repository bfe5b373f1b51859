package test

import (
	"context"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"skiff.dev/testenv"
)

// TestGenerationAndStatusSplit: metadata.generation starts at 1 and grows
// only when the spec (or, for Deployments, the annotations) changes; the
// status subresource ignores the spec and the main resource the status.
func TestGenerationAndStatusSplit(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	deps := clientset(t, env).AppsV1().Deployments("default")
	d, err := deps.Create(ctx, newDeployment("web"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Generation != 1 {
		t.Fatalf("generation on create: %d, want 1", d.Generation)
	}
	steps := []struct {
		name    string
		change  func(d *appsv1.Deployment) (*appsv1.Deployment, error)
		wantGen int64
		check   func(t *testing.T, d *appsv1.Deployment)
	}{
		{"label change", func(d *appsv1.Deployment) (*appsv1.Deployment, error) {
			d.Labels = map[string]string{"x": "y"}
			return deps.Update(ctx, d, metav1.UpdateOptions{})
		}, 1, nil},
		{"spec change", func(d *appsv1.Deployment) (*appsv1.Deployment, error) {
			d.Spec.Replicas = ptr.To[int32](3)
			return deps.Update(ctx, d, metav1.UpdateOptions{})
		}, 2, nil},
		{"annotation change", func(d *appsv1.Deployment) (*appsv1.Deployment, error) {
			d.Annotations = map[string]string{"note": "1"}
			return deps.Update(ctx, d, metav1.UpdateOptions{})
		}, 3, nil},
		{"status update with a changed spec keeps the spec", func(d *appsv1.Deployment) (*appsv1.Deployment, error) {
			d.Spec.Replicas = ptr.To[int32](9)
			d.Status.Replicas, d.Status.ObservedGeneration = 3, 3
			return deps.UpdateStatus(ctx, d, metav1.UpdateOptions{})
		}, 3, func(t *testing.T, d *appsv1.Deployment) {
			if *d.Spec.Replicas != 3 || d.Status.Replicas != 3 || d.Status.ObservedGeneration != 3 {
				t.Errorf("spec.replicas %d status.replicas %d observedGeneration %d, want 3 3 3",
					*d.Spec.Replicas, d.Status.Replicas, d.Status.ObservedGeneration)
			}
		}},
		{"update with a changed status keeps the status", func(d *appsv1.Deployment) (*appsv1.Deployment, error) {
			d.Status.Replicas = 7
			d.Labels["x"] = "z"
			return deps.Update(ctx, d, metav1.UpdateOptions{})
		}, 3, func(t *testing.T, d *appsv1.Deployment) {
			if d.Status.Replicas != 3 || d.Labels["x"] != "z" {
				t.Errorf("status.replicas %d label %q, want 3 and z", d.Status.Replicas, d.Labels["x"])
			}
		}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			got, err := s.change(d.DeepCopy())
			if err != nil {
				t.Fatal(err)
			}
			stored, err := deps.Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Generation != s.wantGen || stored.Generation != s.wantGen {
				t.Errorf("generation: returned %d, stored %d, want %d", got.Generation, stored.Generation, s.wantGen)
			}
			if got.ResourceVersion != stored.ResourceVersion {
				t.Errorf("returned resourceVersion %s, stored %s", got.ResourceVersion, stored.ResourceVersion)
			}
			if s.check != nil {
				s.check(t, stored)
			}
			d = stored
		})
	}
}

// TestImmutableFields: updates that change immutable fields fail with 422
// naming the field, in upstream's words.
func TestImmutableFields(t *testing.T) {
	// No scheduler or controllers: they would write to the pod between
	// its creation and the updates below, which use the created copy.
	env := testenv.Start(t, testenv.Options{WithoutScheduler: true, WithoutControllers: true})
	ctx := context.Background()
	cs := clientset(t, env)
	d, err := cs.AppsV1().Deployments("default").Create(ctx, newDeployment("web"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := cs.CoreV1().Pods("default").Create(ctx, newPod("p"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm := configMap("frozen", map[string]string{"k": "v"})
	cm.Immutable = ptr.To(true)
	if cm, err = cs.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		update    func() error
		wantCause string // "field: type"
		wantMsg   string
	}{
		{"deployment selector", func() error {
			d := d.DeepCopy()
			d.Spec.Selector.MatchLabels = map[string]string{"app": "other"}
			d.Spec.Template.Labels = map[string]string{"app": "other"}
			_, err := cs.AppsV1().Deployments("default").Update(ctx, d, metav1.UpdateOptions{})
			return err
		}, "spec.selector: FieldValueInvalid", "field is immutable"},
		{"uid in a patch (a controller's guard against a replaced object)", func() error {
			_, err := cs.CoreV1().Pods("default").Patch(ctx, "p", types.StrategicMergePatchType,
				[]byte(`{"metadata":{"labels":{"x":"y"},"uid":"00000000-0000-0000-0000-000000000000"}}`), metav1.PatchOptions{})
			return err
		}, "metadata.uid: FieldValueInvalid", "field is immutable"},
		{"pod spec other than image", func() error {
			p := p.DeepCopy()
			p.Spec.Containers[0].Command = []string{"sleep", "1"}
			_, err := cs.CoreV1().Pods("default").Update(ctx, p, metav1.UpdateOptions{})
			return err
		}, "spec: FieldValueForbidden", "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`"},
		{"immutable configmap data", func() error {
			cm := cm.DeepCopy()
			cm.Data["k"] = "changed"
			_, err := cs.CoreV1().ConfigMaps("default").Update(ctx, cm, metav1.UpdateOptions{})
			return err
		}, "data: FieldValueForbidden", "field is immutable when `immutable` is set"},
		{"immutable configmap flag", func() error {
			cm := cm.DeepCopy()
			cm.Immutable = ptr.To(false)
			_, err := cs.CoreV1().ConfigMaps("default").Update(ctx, cm, metav1.UpdateOptions{})
			return err
		}, "immutable: FieldValueForbidden", "field is immutable when `immutable` is set"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.update()
			if !apierrors.IsInvalid(err) {
				t.Fatalf("got %v, want 422 Invalid", err)
			}
			if !slices.Contains(causes(err), c.wantCause) || !strings.Contains(err.Error(), c.wantMsg) {
				t.Errorf("got %q with causes %v, want cause %q and %q", err, causes(err), c.wantCause, c.wantMsg)
			}
		})
	}
	// The image of a pod may change; an immutable ConfigMap may still get
	// new labels.
	p.Spec.Containers[0].Image = "busybox:2"
	if _, err := cs.CoreV1().Pods("default").Update(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Errorf("image update: %v", err)
	}
	cm.Labels = map[string]string{"a": "b"}
	if _, err := cs.CoreV1().ConfigMaps("default").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Errorf("label update of an immutable ConfigMap: %v", err)
	}
}

// TestDeleteCollectionBySelector: deletecollection removes only what the
// label selector matches.
func TestDeleteCollectionBySelector(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	cms := clientset(t, env).CoreV1().ConfigMaps("default")
	for i, tier := range []string{"web", "db", "web", "cache", "web"} {
		cm := configMap(tier+string(rune('a'+i)), nil)
		cm.Labels = map[string]string{"tier": tier}
		if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := cms.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "tier=web"}); err != nil {
		t.Fatal(err)
	}
	l, err := cms.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, cm := range l.Items {
		if cm.Name != "kube-root-ca.crt" {
			left = append(left, cm.Name)
		}
	}
	if !slices.Equal(left, []string{"cached", "dbb"}) {
		t.Errorf("left after deleting tier=web: %v, want [cached dbb]", left)
	}
}

// TestFieldSelectorsPerResource: each resource serves upstream's selectable
// fields, and refuses others with 400.
func TestFieldSelectorsPerResource(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	cs := clientset(t, env)
	pods := cs.CoreV1().Pods("default")
	for _, p := range []*corev1.Pod{newPod("bound"), newPod("pending")} {
		if p.Name == "bound" {
			p.Spec.NodeName = "n1"
		}
		if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	running, err := pods.Get(ctx, "bound", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	running.Status.Phase = corev1.PodRunning
	if _, err := pods.UpdateStatus(ctx, running, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, e := range []corev1.Event{
		{ObjectMeta: metav1.ObjectMeta{Name: "e1"}, InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "bound", Namespace: "default"}, Reason: "Started", Type: "Normal"},
		{ObjectMeta: metav1.ObjectMeta{Name: "e2"}, InvolvedObject: corev1.ObjectReference{Kind: "Node", Name: "n1"}, Reason: "Ready", Type: "Normal"},
	} {
		if _, err := cs.CoreV1().Events("default").Create(ctx, &e, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Name: "opaque"}, StringData: map[string]string{"a": "b"}},
		{ObjectMeta: metav1.ObjectMeta{Name: "tls"}, Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": nil, "tls.key": nil}},
	} {
		if _, err := cs.CoreV1().Secrets("default").Create(ctx, &s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	names := func(list func(metav1.ListOptions) ([]string, error), sel string) ([]string, error) {
		return list(metav1.ListOptions{FieldSelector: sel})
	}
	listPods := func(o metav1.ListOptions) ([]string, error) {
		l, err := pods.List(ctx, o)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, p := range l.Items {
			out = append(out, p.Name)
		}
		return out, nil
	}
	listEvents := func(o metav1.ListOptions) ([]string, error) {
		l, err := cs.CoreV1().Events("default").List(ctx, o)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, e := range l.Items {
			out = append(out, e.Name)
		}
		return out, nil
	}
	listSecrets := func(o metav1.ListOptions) ([]string, error) {
		l, err := cs.CoreV1().Secrets("default").List(ctx, o)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, s := range l.Items {
			out = append(out, s.Name)
		}
		return out, nil
	}
	cases := []struct {
		name string
		list func(metav1.ListOptions) ([]string, error)
		sel  string
		want []string
	}{
		{"pods by node", listPods, "spec.nodeName=n1", []string{"bound"}},
		{"pods not on a node", listPods, "spec.nodeName=", []string{"pending"}},
		{"pods by phase", listPods, "status.phase=Running", []string{"bound"}},
		{"pods not running", listPods, "status.phase!=Running", []string{"pending"}},
		{"events by object name", listEvents, "involvedObject.name=bound", []string{"e1"}},
		{"events by object kind", listEvents, "involvedObject.kind=Node", []string{"e2"}},
		{"events by kind and name", listEvents, "involvedObject.kind=Pod,involvedObject.name=n1", nil},
		{"secrets by type", listSecrets, "type=kubernetes.io/tls", []string{"tls"}},
		{"secrets not opaque", listSecrets, "type!=Opaque", []string{"tls"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := names(c.list, c.sel)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", c.sel, got, c.want)
			}
		})
	}
	for _, c := range []struct {
		name string
		list func(metav1.ListOptions) ([]string, error)
		sel  string
	}{
		{"pods", listPods, "spec.nope=x"},
		{"events", listEvents, "spec.nodeName=n1"},
		{"secrets", listSecrets, "data=x"},
	} {
		_, err := names(c.list, c.sel)
		if !apierrors.IsBadRequest(err) || err.Error() != "field label not supported: "+c.sel[:strings.Index(c.sel, "=")] {
			t.Errorf("%s with %s: got %v, want 400 field label not supported", c.name, c.sel, err)
		}
	}
	// Kinds without selectable fields of their own answer in the words of
	// upstream's default conversion.
	_, err = cs.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{FieldSelector: "data.k=v"})
	want := `"data.k" is not a known field selector: only "metadata.name", "metadata.namespace"`
	if !apierrors.IsBadRequest(err) || err.Error() != want {
		t.Errorf("configmaps with data.k: got %v, want 400 %s", err, want)
	}
}
