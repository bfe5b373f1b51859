package registry

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

var webLabels = map[string]string{"app": "web"}

// wlTemplate is a minimal workload pod template with the given labels.
func wlTemplate(labels map[string]string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
}

func mkDeployment(mods ...func(*appsv1.Deployment)) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: webLabels},
			Template: wlTemplate(webLabels),
		},
	}
	for _, m := range mods {
		m(d)
	}
	return d
}

func mkStatefulSet(mods ...func(*appsv1.StatefulSet)) *appsv1.StatefulSet {
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default"},
		Spec: appsv1.StatefulSetSpec{
			ServiceName: "db",
			Selector:    &metav1.LabelSelector{MatchLabels: webLabels},
			Template:    wlTemplate(webLabels),
		},
	}
	for _, m := range mods {
		m(s)
	}
	return s
}

func mkDaemonSet(mods ...func(*appsv1.DaemonSet)) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: webLabels},
			Template: wlTemplate(webLabels),
		},
	}
	for _, m := range mods {
		m(ds)
	}
	return ds
}

func TestDeploymentDefaults(t *testing.T) {
	d := mkDeployment()
	groupResource(t, "apps/v1", "deployments").Strategy.Default(d)
	s := d.Spec
	ru := s.Strategy.RollingUpdate
	if *s.Replicas != 1 || s.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || ru == nil ||
		ru.MaxSurge.String() != "25%" || ru.MaxUnavailable.String() != "25%" ||
		*s.RevisionHistoryLimit != 10 || *s.ProgressDeadlineSeconds != 600 {
		t.Errorf("defaults: %+v", s)
	}
	if s.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		t.Errorf("template not defaulted: %+v", s.Template.Spec)
	}
	recreate := mkDeployment(func(d *appsv1.Deployment) { d.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType })
	groupResource(t, "apps/v1", "deployments").Strategy.Default(recreate)
	if recreate.Spec.Strategy.RollingUpdate != nil {
		t.Errorf("Recreate got a rolling update: %+v", recreate.Spec.Strategy)
	}
}

func TestDeploymentValidation(t *testing.T) {
	r := groupResource(t, "apps/v1", "deployments")
	pct := func(s string) *intstr.IntOrString { return ptr.To(intstr.FromString(s)) }
	for name, c := range map[string]struct {
		mod  func(*appsv1.Deployment)
		want []string
	}{
		"valid":             {func(*appsv1.Deployment) {}, nil},
		"no selector":       {func(d *appsv1.Deployment) { d.Spec.Selector = nil }, []string{"spec.selector: Required value"}},
		"empty selector":    {func(d *appsv1.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} }, []string{"spec.selector: Invalid value"}},
		"selector mismatch": {func(d *appsv1.Deployment) { d.Spec.Template.Labels = map[string]string{"app": "db"} }, []string{"spec.template.metadata.labels: Invalid value"}},
		"negative replicas": {func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To[int32](-1) }, []string{"spec.replicas: Invalid value"}},
		"restart Never":     {func(d *appsv1.Deployment) { d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever }, []string{"spec.template.spec.restartPolicy: Unsupported value"}},
		"active deadline":   {func(d *appsv1.Deployment) { d.Spec.Template.Spec.ActiveDeadlineSeconds = ptr.To[int64](5) }, []string{"spec.template.spec.activeDeadlineSeconds: Forbidden"}},
		"no surge, no unavl": {func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: pct("0%"), MaxUnavailable: pct("0%")}
		}, []string{"spec.strategy.rollingUpdate.maxUnavailable: Invalid value"}},
		"over 100%": {func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: pct("120%")}
		}, []string{"spec.strategy.rollingUpdate.maxUnavailable: Invalid value"}},
		"bad percent": {func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: pct("x")}
		}, []string{"spec.strategy.rollingUpdate.maxSurge: Invalid value"}},
		"recreate rolling": {func(d *appsv1.Deployment) {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{}}
		}, []string{"spec.strategy.rollingUpdate: Forbidden"}},
		"unknown strategy": {func(d *appsv1.Deployment) { d.Spec.Strategy.Type = "Blue" }, []string{"spec.strategy: Unsupported value"}},
		"deadline too short": {func(d *appsv1.Deployment) {
			d.Spec.MinReadySeconds, d.Spec.ProgressDeadlineSeconds = 30, ptr.To[int32](30)
		}, []string{"spec.progressDeadlineSeconds: Invalid value"}},
	} {
		checkErrs(t, name, strategyCreate(r, mkDeployment(c.mod)), c.want...)
	}
}

func TestDeploymentUpdate(t *testing.T) {
	r := groupResource(t, "apps/v1", "deployments")
	old := mkDeployment()
	strategyCreate(r, old)
	old.Generation = 3

	moved := mkDeployment(func(d *appsv1.Deployment) {
		d.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "fe"}}
		d.Spec.Template.Labels = map[string]string{"app": "web", "tier": "fe"}
	})
	checkErrs(t, "selector change", strategyUpdate(r, moved, old), "spec.selector: Invalid value")

	annotated := old.DeepCopy()
	annotated.Annotations = map[string]string{"note": "x"}
	checkErrs(t, "annotation change", strategyUpdate(r, annotated, old))
	if annotated.Generation != 4 {
		t.Errorf("annotation change: generation %d, want 4", annotated.Generation)
	}
}

func TestDeploymentStatusAndRow(t *testing.T) {
	r := groupResource(t, "apps/v1", "deployments")
	d := mkDeployment(func(d *appsv1.Deployment) {
		d.Spec.Replicas = ptr.To[int32](3)
		d.Status = appsv1.DeploymentStatus{Replicas: 3, ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 2}
	})
	checkErrs(t, "status", r.Strategy.ValidateStatusUpdate(d, d))
	row := r.Strategy.Row(d)
	if row[0] != "web" || row[1] != "2/3" || row[2] != int64(3) || row[3] != int64(2) || row[5] != "c" || row[6] != "busybox" || row[7] != "app=web" {
		t.Errorf("row = %v", row)
	}
	bad := d.DeepCopy()
	bad.Status.ReadyReplicas, bad.Status.AvailableReplicas = 4, 4
	checkErrs(t, "ready above replicas", r.Strategy.ValidateStatusUpdate(bad, d),
		"status.readyReplicas: Invalid value", "status.availableReplicas: Invalid value")
}

func TestReplicaSet(t *testing.T) {
	r := groupResource(t, "apps/v1", "replicasets")
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "default"},
		Spec:       appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: webLabels}, Template: wlTemplate(webLabels)},
		Status:     appsv1.ReplicaSetStatus{Replicas: 9},
	}
	checkErrs(t, "create", strategyCreate(r, rs))
	if *rs.Spec.Replicas != 1 || rs.Status.Replicas != 0 {
		t.Errorf("replicas %d, status %+v", *rs.Spec.Replicas, rs.Status)
	}
	rs.Status.Replicas = 2
	if f := r.Strategy.Fields(rs); f["status.replicas"] != "2" {
		t.Errorf("fields = %v", f)
	}
	if row := r.Strategy.Row(rs); row[1] != int64(1) || row[2] != int64(2) {
		t.Errorf("row = %v", row)
	}
	other := rs.DeepCopy()
	other.Spec.Template.Labels = map[string]string{"app": "db"}
	checkErrs(t, "mismatch", r.Strategy.Validate(other), "spec.template.metadata.labels: Invalid value")
}

func TestStatefulSetDefaults(t *testing.T) {
	s := mkStatefulSet(func(s *appsv1.StatefulSet) {
		s.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{
			{ObjectMeta: metav1.ObjectMeta{Name: "data"}},
			{TypeMeta: metav1.TypeMeta{APIVersion: "v2", Kind: "Claim"}, ObjectMeta: metav1.ObjectMeta{Name: "logs"}},
		}
	})
	groupResource(t, "apps/v1", "statefulsets").Strategy.Default(s)
	sp := s.Spec
	if *sp.Replicas != 1 || sp.PodManagementPolicy != appsv1.OrderedReadyPodManagement ||
		sp.UpdateStrategy.Type != appsv1.RollingUpdateStatefulSetStrategyType || *sp.UpdateStrategy.RollingUpdate.Partition != 0 ||
		*sp.RevisionHistoryLimit != 10 || sp.MinReadySeconds != 0 ||
		sp.PersistentVolumeClaimRetentionPolicy.WhenDeleted != appsv1.RetainPersistentVolumeClaimRetentionPolicyType ||
		sp.PersistentVolumeClaimRetentionPolicy.WhenScaled != appsv1.RetainPersistentVolumeClaimRetentionPolicyType {
		t.Errorf("defaults: %+v", sp)
	}
	for _, c := range sp.VolumeClaimTemplates {
		if *c.Spec.VolumeMode != corev1.PersistentVolumeFilesystem || c.Status.Phase != corev1.ClaimPending ||
			c.APIVersion != "v1" || c.Kind != "PersistentVolumeClaim" {
			t.Errorf("claim template: %+v", c)
		}
	}
}

func TestStatefulSetValidation(t *testing.T) {
	r := groupResource(t, "apps/v1", "statefulsets")
	withClaim := func(s *appsv1.StatefulSet) {
		s.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{
			ObjectMeta: metav1.ObjectMeta{Name: "data"},
			Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}},
		}}
		s.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
	}
	for name, c := range map[string]struct {
		mod  func(*appsv1.StatefulSet)
		want []string
	}{
		"valid":        {func(*appsv1.StatefulSet) {}, nil},
		"mounts claim": {withClaim, nil},
		"no selector":  {func(s *appsv1.StatefulSet) { s.Spec.Selector = nil }, []string{"spec.selector: Required value"}},
		"pod policy":   {func(s *appsv1.StatefulSet) { s.Spec.PodManagementPolicy = "Random" }, []string{"spec.podManagementPolicy: Invalid value"}},
		"negative partition": {func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](-1)}
		}, []string{"spec.updateStrategy.rollingUpdate.partition: Invalid value"}},
		"ondelete rolling": {func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType, RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{}}
		}, []string{"spec.updateStrategy.rollingUpdate: Invalid value"}},
		"retention": {func(s *appsv1.StatefulSet) {
			s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenDeleted: "Keep"}
		}, []string{"spec.persistentVolumeClaimRetentionPolicy.whenDeleted: Unsupported value"}},
	} {
		checkErrs(t, name, strategyCreate(r, mkStatefulSet(c.mod)), c.want...)
	}
}

func TestStatefulSetUpdate(t *testing.T) {
	r := groupResource(t, "apps/v1", "statefulsets")
	old := mkStatefulSet()
	strategyCreate(r, old)
	for name, c := range map[string]struct {
		mod  func(*appsv1.StatefulSet)
		want []string
	}{
		"scale":        {func(s *appsv1.StatefulSet) { s.Spec.Replicas = ptr.To[int32](5) }, nil},
		"new image":    {func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = "busybox:2" }, nil},
		"min ready":    {func(s *appsv1.StatefulSet) { s.Spec.MinReadySeconds = 10 }, nil},
		"service name": {func(s *appsv1.StatefulSet) { s.Spec.ServiceName = "other" }, []string{"spec: Forbidden"}},
		"selector": {func(s *appsv1.StatefulSet) {
			s.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "x": "y"}}
			s.Spec.Template.Labels = map[string]string{"app": "web", "x": "y"}
		}, []string{"spec: Forbidden"}},
	} {
		n := old.DeepCopy()
		c.mod(n)
		checkErrs(t, name, strategyUpdate(r, n, old), c.want...)
	}
	n := old.DeepCopy()
	n.Spec.ServiceName = "other"
	if errs := strategyUpdate(r, n, old); len(errs) != 1 || errs[0].Detail != statefulSetUpdateForbidden {
		t.Errorf("forbidden message: %v", errs)
	}
	// A claim template stored without apiVersion and kind is not changed
	// by an update that gets them filled in.
	withClaim := mkStatefulSet(func(s *appsv1.StatefulSet) {
		s.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}}
	})
	stored := withClaim.DeepCopy()
	strategyCreate(r, stored)
	stored.Spec.VolumeClaimTemplates[0].TypeMeta = metav1.TypeMeta{}
	checkErrs(t, "claim template type", strategyUpdate(r, withClaim, stored))
	n.Status = appsv1.StatefulSetStatus{Replicas: 3, ReadyReplicas: 1}
	if row := r.Strategy.Row(n); row[1] != "1/1" || len(row) != 5 {
		t.Errorf("row = %v", row)
	}
}

func TestDaemonSet(t *testing.T) {
	r := groupResource(t, "apps/v1", "daemonsets")
	ds := mkDaemonSet()
	checkErrs(t, "create", strategyCreate(r, ds))
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || ru.MaxUnavailable.IntValue() != 1 ||
		ru.MaxSurge.IntValue() != 0 || *ds.Spec.RevisionHistoryLimit != 10 {
		t.Errorf("defaults: %+v", ds.Spec)
	}
	if g := ds.Annotations[appsv1.DeprecatedTemplateGeneration]; g != "1" {
		t.Errorf("template generation on create = %q", g)
	}

	n := ds.DeepCopy()
	n.Spec.Template.Spec.Containers[0].Image = "busybox:2"
	checkErrs(t, "new image", strategyUpdate(r, n, ds))
	if g := n.Annotations[appsv1.DeprecatedTemplateGeneration]; g != "2" {
		t.Errorf("template generation after template change = %q", g)
	}
	scaled := n.DeepCopy()
	scaled.Spec.MinReadySeconds = 5
	strategyUpdate(r, scaled, n)
	if g := scaled.Annotations[appsv1.DeprecatedTemplateGeneration]; g != "2" {
		t.Errorf("template generation after other change = %q", g)
	}

	one := intstr.FromInt32(1)
	zero := intstr.FromInt32(0)
	for name, c := range map[string]struct {
		surge, unavailable intstr.IntOrString
		want               []string
	}{
		"both":    {one, one, []string{"spec.updateStrategy.rollingUpdate.maxSurge: Invalid value"}},
		"neither": {zero, zero, []string{"spec.updateStrategy.rollingUpdate.maxUnavailable: Required value"}},
		"surge":   {one, zero, nil},
	} {
		d := mkDaemonSet(func(d *appsv1.DaemonSet) {
			d.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxSurge: &c.surge, MaxUnavailable: &c.unavailable}
		})
		checkErrs(t, name, strategyCreate(r, d), c.want...)
	}
	moved := ds.DeepCopy()
	moved.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "x": "y"}}
	moved.Spec.Template.Labels = map[string]string{"app": "web", "x": "y"}
	checkErrs(t, "selector", strategyUpdate(r, moved, ds), "spec.selector: Invalid value")

	ds.Spec.Template.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	if row := r.Strategy.Row(ds); row[6] != "disk=ssd" {
		t.Errorf("row = %v", row)
	}
}

func TestControllerRevision(t *testing.T) {
	r := groupResource(t, "apps/v1", "controllerrevisions")
	cr := &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "db-123", OwnerReferences: []metav1.OwnerReference{{
		APIVersion: "apps/v1", Kind: "StatefulSet", Name: "db", Controller: ptr.To(true)}}}, Revision: 2}
	checkErrs(t, "no data", r.Strategy.Validate(cr), "data: Required value")
	cr.Data = runtime.RawExtension{Raw: []byte(`{}`)}
	checkErrs(t, "data", r.Strategy.Validate(cr))
	if row := r.Strategy.Row(cr); row[1] != "statefulset.apps/db" || row[2] != int64(2) {
		t.Errorf("row = %v", row)
	}
	changed := cr.DeepCopy()
	changed.Data.Raw = []byte(`{"a":1}`)
	checkErrs(t, "data change", r.Strategy.ValidateUpdate(changed, cr), "data: Invalid value")
}
