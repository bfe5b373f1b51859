package daemonset

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// t0 is the reference time of the unit tests.
var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

type nodeBuilder struct{ n *corev1.Node }

func makeNode(name string) *nodeBuilder {
	return &nodeBuilder{&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}}}}
}

func (b *nodeBuilder) label(k, v string) *nodeBuilder { b.n.Labels[k] = v; return b }

func (b *nodeBuilder) taint(key string, effect corev1.TaintEffect) *nodeBuilder {
	b.n.Spec.Taints = append(b.n.Spec.Taints, corev1.Taint{Key: key, Effect: effect})
	return b
}

func (b *nodeBuilder) obj() *corev1.Node { return b.n }

type dsBuilder struct{ ds *appsv1.DaemonSet }

func makeDS(name string) *dsBuilder {
	return &dsBuilder{&appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name), Generation: 1,
			Annotations: map[string]string{appsv1.DeprecatedTemplateGeneration: "1"}},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img"}}},
			},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr.To(intstr.FromInt32(1)),
					MaxSurge: ptr.To(intstr.FromInt32(0))}},
		},
	}}
}

func (b *dsBuilder) nodeSelector(k, v string) *dsBuilder {
	if b.ds.Spec.Template.Spec.NodeSelector == nil {
		b.ds.Spec.Template.Spec.NodeSelector = map[string]string{}
	}
	b.ds.Spec.Template.Spec.NodeSelector[k] = v
	return b
}

func (b *dsBuilder) affinity(terms ...corev1.NodeSelectorTerm) *dsBuilder {
	b.ds.Spec.Template.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: terms}}}
	return b
}

func (b *dsBuilder) toleration(t corev1.Toleration) *dsBuilder {
	b.ds.Spec.Template.Spec.Tolerations = append(b.ds.Spec.Template.Spec.Tolerations, t)
	return b
}

func (b *dsBuilder) hostNetwork() *dsBuilder { b.ds.Spec.Template.Spec.HostNetwork = true; return b }

func (b *dsBuilder) nodeName(n string) *dsBuilder { b.ds.Spec.Template.Spec.NodeName = n; return b }

func (b *dsBuilder) minReady(s int32) *dsBuilder { b.ds.Spec.MinReadySeconds = s; return b }

func (b *dsBuilder) rolling(maxUnavailable, maxSurge intstr.IntOrString) *dsBuilder {
	b.ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &maxUnavailable, MaxSurge: &maxSurge}}
	return b
}

func (b *dsBuilder) onDelete() *dsBuilder {
	b.ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
	return b
}

func (b *dsBuilder) obj() *appsv1.DaemonSet { return b.ds }

type podBuilder struct{ p *corev1.Pod }

// makePod is a daemon pod for node, created age before t0, with revision
// hash; Running and Ready (since its creation) unless changed.
func makePod(name, node, hash string, age time.Duration) *podBuilder {
	created := metav1.NewTime(t0.Add(-age))
	return &podBuilder{&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name),
			CreationTimestamp: created, Labels: map[string]string{appsv1.ControllerRevisionHashLabelKey: hash}},
		Spec: corev1.PodSpec{NodeName: node},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: created}}},
	}}
}

func (b *podBuilder) unscheduled() *podBuilder {
	node := b.p.Spec.NodeName
	b.p.Spec.NodeName = ""
	b.p.Spec.Affinity = pinToNode(nil, node)
	return b
}

func (b *podBuilder) phase(p corev1.PodPhase) *podBuilder { b.p.Status.Phase = p; return b }

func (b *podBuilder) notReady() *podBuilder {
	b.p.Status.Conditions[0].Status = corev1.ConditionFalse
	return b
}

// readyFor makes the pod Ready since d before t0.
func (b *podBuilder) readyFor(d time.Duration) *podBuilder {
	b.p.Status.Conditions[0].LastTransitionTime = metav1.NewTime(t0.Add(-d))
	return b
}

func (b *podBuilder) deleting() *podBuilder {
	ts := metav1.NewTime(t0)
	b.p.DeletionTimestamp = &ts
	return b
}

func (b *podBuilder) obj() *corev1.Pod { return b.p }

func names(pods []*corev1.Pod) []string {
	out := []string{}
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}
