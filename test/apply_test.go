package test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	"skiff.dev/internal/store"
	"skiff.dev/testenv"
)

// TestServerSideApply: field ownership, conflicts between managers, force,
// and managedFields on the object.
func TestServerSideApply(t *testing.T) {
	env := testenv.Start(t)
	cs := clientset(t, env)
	ctx := context.Background()
	cms := cs.CoreV1().ConfigMaps("default")

	first := corev1ac.ConfigMap("owned", "default").WithData(map[string]string{"a": "1"})
	cm, err := cms.Apply(ctx, first, metav1.ApplyOptions{FieldManager: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["a"] != "1" || len(cm.ManagedFields) != 1 || cm.ManagedFields[0].Manager != "alice" ||
		cm.ManagedFields[0].Operation != metav1.ManagedFieldsOperationApply {
		t.Fatalf("apply-create: %+v", cm)
	}
	// Another manager setting alice's field conflicts...
	other := corev1ac.ConfigMap("owned", "default").WithData(map[string]string{"a": "2"})
	_, err = cms.Apply(ctx, other, metav1.ApplyOptions{FieldManager: "bob"})
	if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), `conflict with "alice"`) {
		t.Fatalf("conflicting apply: got %v, want 409 naming alice", err)
	}
	// ...unless it forces, which takes the field over.
	cm, err = cms.Apply(ctx, other, metav1.ApplyOptions{FieldManager: "bob", Force: true})
	if err != nil || cm.Data["a"] != "2" {
		t.Fatalf("forced apply: %v %v", cm, err)
	}
	// An applier that drops a field it owns removes it.
	cm, err = cms.Apply(ctx, corev1ac.ConfigMap("owned", "default").WithData(map[string]string{"b": "3"}), metav1.ApplyOptions{FieldManager: "bob"})
	if err != nil || cm.Data["a"] != "" || cm.Data["b"] != "3" {
		t.Fatalf("apply dropping a field: %v %v", cm.Data, err)
	}
	// A plain update records an Update entry for its manager.
	cm.Labels = map[string]string{"x": "y"}
	cm, err = cms.Update(ctx, cm, metav1.UpdateOptions{FieldManager: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range cm.ManagedFields {
		if mf.Manager == "carol" && mf.Operation == metav1.ManagedFieldsOperationUpdate {
			found = true
		}
	}
	if !found {
		t.Fatalf("update left no managedFields entry: %+v", cm.ManagedFields)
	}
	// Apply without a field manager is refused.
	_, err = cms.Patch(ctx, "owned", types.ApplyPatchType, []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"owned"}}`), metav1.PatchOptions{})
	if !apierrors.IsInvalid(err) && !apierrors.IsBadRequest(err) {
		t.Fatalf("apply without fieldManager: got %v", err)
	}

	// Apply of a Deployment gets upstream's defaults, and the status
	// subresource keeps its own fields.
	dep := appsv1ac.Deployment("web", "default").WithSpec(appsv1ac.DeploymentSpec().
		WithSelector(metav1ac.LabelSelector().WithMatchLabels(map[string]string{"app": "web"})).
		WithTemplate(corev1ac.PodTemplateSpec().WithLabels(map[string]string{"app": "web"}).
			WithSpec(corev1ac.PodSpec().WithContainers(corev1ac.Container().WithName("web").WithImage("web:1")))))
	d, err := cs.AppsV1().Deployments("default").Apply(ctx, dep, metav1.ApplyOptions{FieldManager: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	checkDeploymentDefaults(t, d)
}

func checkDeploymentDefaults(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	s := d.Spec
	if s.Replicas == nil || *s.Replicas != 1 || s.RevisionHistoryLimit == nil || *s.RevisionHistoryLimit != 10 ||
		s.ProgressDeadlineSeconds == nil || *s.ProgressDeadlineSeconds != 600 ||
		s.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || s.Strategy.RollingUpdate == nil ||
		s.Strategy.RollingUpdate.MaxSurge.String() != "25%" || s.Strategy.RollingUpdate.MaxUnavailable.String() != "25%" {
		t.Errorf("deployment defaults: %+v", s)
	}
	p := s.Template.Spec
	c := p.Containers[0]
	if p.RestartPolicy != corev1.RestartPolicyAlways || p.DNSPolicy != corev1.DNSClusterFirst ||
		p.TerminationGracePeriodSeconds == nil || *p.TerminationGracePeriodSeconds != 30 || p.SchedulerName != "default-scheduler" ||
		c.ImagePullPolicy != corev1.PullIfNotPresent || c.TerminationMessagePath != "/dev/termination-log" {
		t.Errorf("pod template defaults: %+v", p)
	}
	if d.Generation != 1 {
		t.Errorf("generation of a new deployment: %d", d.Generation)
	}
}

// TestExternalEtcd: --etcd-servers points the API server at an etcd it
// does not run; the data is there under upstream's keys.
func TestExternalEtcd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := store.StartEmbedded(ctx, store.EmbeddedOptions{Dir: filepath.Join(t.TempDir(), "etcd")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	env := testenv.Start(t, testenv.Options{EtcdServers: []string{e.ClientURL}})
	if env.Server.EtcdURL() != "" {
		t.Fatalf("an embedded etcd runs besides the external one: %s", env.Server.EtcdURL())
	}
	cs := clientset(t, env)
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, configMap("outside", map[string]string{"k": "v"}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kv, err := store.New(e.Client()).Get(ctx, "/registry/configmaps/default/outside")
	if err != nil || !strings.Contains(string(kv.Value), `"k":"v"`) {
		t.Fatalf("external etcd holds %q (%v)", kv.Value, err)
	}
}
