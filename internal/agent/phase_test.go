package agent

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// Container status builders for phase tables.
func running(name string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}, Started: ptr.To(true)}
}

func exited(name string, code int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}}
}

func waiting(name string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{}}}
}

func crashed(name string, code int32) corev1.ContainerStatus {
	s := waiting(name)
	s.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: code}
	return s
}

// TestPodPhase checks the phase rules, the kubelet's getPhase, table by
// table.
func TestPodPhase(t *testing.T) {
	pod := func(policy corev1.RestartPolicy, inits ...corev1.Container) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: policy, InitContainers: inits,
			Containers: []corev1.Container{{Name: "a"}, {Name: "b"}}}}
	}
	sidecar := corev1.Container{Name: "side", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways)}
	cases := []struct {
		name     string
		pod      *corev1.Pod
		statuses []corev1.ContainerStatus
		terminal bool
		want     corev1.PodPhase
	}{
		{"nothing known", pod(corev1.RestartPolicyAlways), nil, false, corev1.PodPending},
		{"all running", pod(corev1.RestartPolicyAlways), []corev1.ContainerStatus{running("a"), running("b")}, false, corev1.PodRunning},
		{"one waiting", pod(corev1.RestartPolicyAlways), []corev1.ContainerStatus{running("a"), waiting("b")}, false, corev1.PodPending},
		{"one crashed, will restart", pod(corev1.RestartPolicyAlways), []corev1.ContainerStatus{running("a"), crashed("b", 1)}, false, corev1.PodRunning},
		{"all stopped, Always", pod(corev1.RestartPolicyAlways), []corev1.ContainerStatus{exited("a", 0), exited("b", 1)}, false, corev1.PodRunning},
		{"all stopped, Always, terminal", pod(corev1.RestartPolicyAlways), []corev1.ContainerStatus{exited("a", 0), exited("b", 1)}, true, corev1.PodFailed},
		{"all succeeded, Never", pod(corev1.RestartPolicyNever), []corev1.ContainerStatus{exited("a", 0), exited("b", 0)}, false, corev1.PodSucceeded},
		{"one failed, Never", pod(corev1.RestartPolicyNever), []corev1.ContainerStatus{exited("a", 0), exited("b", 1)}, false, corev1.PodFailed},
		{"one failed, OnFailure", pod(corev1.RestartPolicyOnFailure), []corev1.ContainerStatus{exited("a", 0), crashed("b", 1)}, false, corev1.PodRunning},
		{"all succeeded, OnFailure", pod(corev1.RestartPolicyOnFailure), []corev1.ContainerStatus{exited("a", 0), exited("b", 0)}, false, corev1.PodSucceeded},
		{"init running", pod(corev1.RestartPolicyAlways, corev1.Container{Name: "i"}), []corev1.ContainerStatus{running("i"), waiting("a"), waiting("b")}, false, corev1.PodPending},
		{"init failed, Never", pod(corev1.RestartPolicyNever, corev1.Container{Name: "i"}), []corev1.ContainerStatus{exited("i", 1), waiting("a"), waiting("b")}, false, corev1.PodFailed},
		{"init failed, Always", pod(corev1.RestartPolicyAlways, corev1.Container{Name: "i"}), []corev1.ContainerStatus{crashed("i", 1), waiting("a"), waiting("b")}, false, corev1.PodPending},
		{"sidecar running, done main, Never", pod(corev1.RestartPolicyNever, sidecar), []corev1.ContainerStatus{running("side"), exited("a", 0), exited("b", 0)}, false, corev1.PodRunning},
		{"sidecar stopped, done main, Never", pod(corev1.RestartPolicyNever, sidecar), []corev1.ContainerStatus{exited("side", 137), exited("a", 0), exited("b", 0)}, false, corev1.PodSucceeded},
	}
	for _, c := range cases {
		if got := podPhase(c.pod, c.statuses, c.terminal, false); got != c.want {
			t.Errorf("%s: phase %s, want %s", c.name, got, c.want)
		}
	}
}
