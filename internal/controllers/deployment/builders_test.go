package deployment

import (
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// dep builds a deployment for tests.
type dep struct{ d *appsv1.Deployment }

func makeDeployment(name string, n int32) dep {
	return dep{&appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name), Generation: 1},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(n),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: template(name, "v1"),
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{
					MaxSurge: ptr.To(intstr.FromString("25%")), MaxUnavailable: ptr.To(intstr.FromString("25%"))}},
			RevisionHistoryLimit:    ptr.To[int32](10),
			ProgressDeadlineSeconds: ptr.To[int32](600),
		},
	}}
}

func (b dep) rolling(surge, unavailable intstr.IntOrString) dep {
	b.d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable}
	return b
}

func (b dep) recreate() dep {
	b.d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	return b
}

func (b dep) image(image string) dep {
	b.d.Spec.Template = template(b.d.Name, image)
	return b
}

func (b dep) status(st appsv1.DeploymentStatus) dep {
	b.d.Status = st
	return b
}

func (b dep) obj() *appsv1.Deployment { return b.d }

func template(app, image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": app}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: image}}},
	}
}

// rset builds a replica set for tests.
type rset struct{ rs *appsv1.ReplicaSet }

// makeRS makes a replica set created age minutes after the epoch.
func makeRS(name string, age int, n int32) rset {
	return rset{&appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name),
			CreationTimestamp: metav1.NewTime(epoch.Add(time.Duration(age) * time.Minute))},
		Spec:   appsv1.ReplicaSetSpec{Replicas: ptr.To(n), Template: template("web", "v1")},
		Status: appsv1.ReplicaSetStatus{Replicas: n, ReadyReplicas: n, AvailableReplicas: n},
	}}
}

func (b rset) available(n int32) rset {
	b.rs.Status.AvailableReplicas = n
	b.rs.Status.ReadyReplicas = n
	return b
}

func (b rset) statusReplicas(n int32) rset {
	b.rs.Status.Replicas = n
	return b
}

func (b rset) image(image string) rset {
	b.rs.Spec.Template = template("web", image)
	b.rs.Spec.Template.Labels[hashLabel] = "h-" + image
	return b
}

func (b rset) annotate(kv ...string) rset {
	if b.rs.Annotations == nil {
		b.rs.Annotations = map[string]string{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		b.rs.Annotations[kv[i]] = kv[i+1]
	}
	return b
}

// sized records the deployment size the replica set was last scaled for.
func (b rset) sized(want, most int32) rset {
	return b.annotate(DesiredReplicasAnnotation, strconv.Itoa(int(want)), MaxReplicasAnnotation, strconv.Itoa(int(most)))
}

func (b rset) revision(n int) rset { return b.annotate(RevisionAnnotation, strconv.Itoa(n)) }

func (b rset) obj() *appsv1.ReplicaSet { return b.rs }

func pct(s string) intstr.IntOrString { return intstr.FromString(s) }
func num(n int) intstr.IntOrString    { return intstr.FromInt32(int32(n)) }

// sizes renders a plan as name=size pairs in plan order.
func sizes(plan []resize) map[string]int32 {
	out := map[string]int32{}
	for _, s := range plan {
		out[s.rs.Name] = s.to
	}
	return out
}
