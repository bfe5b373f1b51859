package apiserver

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func TestAddDefaultTolerations(t *testing.T) {
	notReady := corev1.Toleration{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists,
		Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)}
	unreachable := corev1.Toleration{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists,
		Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](300)}
	own := corev1.Toleration{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists,
		Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To[int64](2)}
	anyEffect := corev1.Toleration{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists}
	everything := corev1.Toleration{Operator: corev1.TolerationOpExists}
	noSchedule := corev1.Toleration{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists,
		Effect: corev1.TaintEffectNoSchedule}
	other := corev1.Toleration{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "gpu", Effect: corev1.TaintEffectNoExecute}
	for _, tc := range []struct {
		name string
		have []corev1.Toleration
		want []corev1.Toleration
	}{
		{"none", nil, []corev1.Toleration{notReady, unreachable}},
		{"own unreachable kept", []corev1.Toleration{own}, []corev1.Toleration{own, notReady}},
		{"empty effect covers NoExecute", []corev1.Toleration{anyEffect}, []corev1.Toleration{anyEffect, unreachable}},
		{"empty key tolerates everything", []corev1.Toleration{everything}, []corev1.Toleration{everything}},
		{"NoSchedule does not cover", []corev1.Toleration{noSchedule}, []corev1.Toleration{noSchedule, notReady, unreachable}},
		{"other keys do not cover", []corev1.Toleration{other}, []corev1.Toleration{other, notReady, unreachable}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{Tolerations: tc.have}}
			addDefaultTolerations(pod, 300, 300)
			if len(pod.Spec.Tolerations) != len(tc.want) {
				t.Fatalf("tolerations = %+v, want %+v", pod.Spec.Tolerations, tc.want)
			}
			for i := range tc.want {
				got, want := pod.Spec.Tolerations[i], tc.want[i]
				if got.Key != want.Key || got.Operator != want.Operator || got.Effect != want.Effect ||
					!ptr.Equal(got.TolerationSeconds, want.TolerationSeconds) {
					t.Errorf("toleration %d = %+v, want %+v", i, got, want)
				}
			}
		})
	}
}

func TestAdmitTolerationsSeconds(t *testing.T) {
	s := &Server{opts: Options{DefaultUnreachableTolerationSeconds: 42}}
	pod := &corev1.Pod{}
	s.admitTolerations(pod)
	got := map[string]int64{}
	for _, tol := range pod.Spec.Tolerations {
		got[tol.Key] = *tol.TolerationSeconds
	}
	if got[corev1.TaintNodeNotReady] != 300 || got[corev1.TaintNodeUnreachable] != 42 {
		t.Errorf("toleration seconds = %v, want not-ready 300 (default) and unreachable 42", got)
	}
	// Objects other than pods are left alone.
	s.admitTolerations(&corev1.ConfigMap{})
}
