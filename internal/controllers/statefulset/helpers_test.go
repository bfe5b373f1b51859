package statefulset

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

var testNow = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// testSet is a defaulted set "web" in "ns" with a "data" claim template.
func testSet(replicas int32, mutate ...func(*appsv1.StatefulSet)) *appsv1.StatefulSet {
	set := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "set-uid", Generation: 1},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To(replicas),
			Selector:    &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			ServiceName: "nginx",
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data", Labels: map[string]string{"tier": "db"}},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				},
			}},
			PodManagementPolicy:  appsv1.OrderedReadyPodManagement,
			UpdateStrategy:       appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType, RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To(int32(0))}},
			RevisionHistoryLimit: ptr.To(int32(10)),
		},
	}
	for _, m := range mutate {
		m(set)
	}
	return set
}

func parallel(s *appsv1.StatefulSet) { s.Spec.PodManagementPolicy = appsv1.ParallelPodManagement }

func partition(p int32) func(*appsv1.StatefulSet) {
	return func(s *appsv1.StatefulSet) { s.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To(p) }
}

func onDelete(s *appsv1.StatefulSet) {
	s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
}

type podState int

const (
	ready podState = iota
	pending
	notReady
	failed
	gone // terminating
)

// testPod is the created pod of set at ordinal, with revision and state.
func testPod(set *appsv1.StatefulSet, ordinal int, rev string, state podState) *corev1.Pod {
	p := newPod(set, ordinal, rev)
	p.UID = types.UID(fmt.Sprintf("pod-%d-uid", ordinal))
	switch state {
	case ready, gone:
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(testNow.Add(-time.Minute))}}
		if state == gone {
			p.DeletionTimestamp = ptr.To(metav1.NewTime(testNow))
		}
	case pending:
		p.Status.Phase = corev1.PodPending
	case notReady:
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
	case failed:
		p.Status.Phase = corev1.PodFailed
	}
	return p
}

// testSnapshot is a snapshot of set whose current revision is "rev1" and
// update revision is update (same template).
func testSnapshot(set *appsv1.StatefulSet, update string, pods ...*corev1.Pod) *snapshot {
	return &snapshot{set: set, current: set, update: set, currentRevision: "rev1", updateRevision: update,
		pods: pods, claims: map[string]*corev1.PersistentVolumeClaim{}, now: testNow}
}

// stepsOf renders a plan's steps as "action pod" strings.
func stepsOf(pl plan) []string {
	var out []string
	for _, s := range pl.steps {
		out = append(out, s.action.String()+" "+s.pod.Name)
	}
	return out
}

// withClaims adds the claims of the snapshot's pods.
func withClaims(s *snapshot) *snapshot {
	for _, p := range s.pods {
		for _, c := range claimsFor(s.set, p) {
			s.claims[c.Name] = c
		}
	}
	return s
}
