package job

import (
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func exited(name string, code int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{ExitCode: code}}}
}

func TestMatchFailurePolicy(t *testing.T) {
	pfp := &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
		{Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{
			{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}},
		{Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
			ContainerName: ptr.To("main"), Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}}},
		{Action: batchv1.PodFailurePolicyActionCount, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{
			Operator: batchv1.PodFailurePolicyOnExitCodesOpNotIn, Values: []int32{1, 2}}},
	}}
	for _, tc := range []struct {
		name       string
		statuses   []corev1.ContainerStatus
		conditions []corev1.PodCondition
		want       batchv1.PodFailurePolicyAction
		wantMsg    string
	}{
		{"disruption ignored", []corev1.ContainerStatus{exited("main", 42)},
			[]corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}, batchv1.PodFailurePolicyActionIgnore,
			"Pod ns/p has condition DisruptionTarget matching Ignore rule at index 0"},
		{"condition false does not match", []corev1.ContainerStatus{exited("main", 42)},
			[]corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionFalse}}, batchv1.PodFailurePolicyActionFailJob,
			"Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1"},
		{"other container's 42 not matched by name", []corev1.ContainerStatus{exited("side", 42)}, nil, batchv1.PodFailurePolicyActionCount, ""},
		{"NotIn matches", []corev1.ContainerStatus{exited("main", 7)}, nil, batchv1.PodFailurePolicyActionCount, ""},
		{"NotIn excludes", []corev1.ContainerStatus{exited("main", 1)}, nil, "", ""},
		{"exit 0 never matches", []corev1.ContainerStatus{exited("main", 0)}, nil, "", ""},
		{"running container has no code", []corev1.ContainerStatus{{Name: "main"}}, nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := podOf("p", corev1.PodFailed, -1)
			p.Status.ContainerStatuses, p.Status.Conditions = tc.statuses, tc.conditions
			m := matchFailurePolicy(pfp, p)
			if tc.want == "" {
				if m != nil {
					t.Fatalf("matched %+v, want none", m)
				}
				return
			}
			if m == nil || m.Action != tc.want {
				t.Fatalf("matched %+v, want %s", m, tc.want)
			}
			if tc.wantMsg != "" && m.Message != tc.wantMsg {
				t.Errorf("message %q, want %q", m.Message, tc.wantMsg)
			}
		})
	}
}

func TestInitContainerExitCodes(t *testing.T) {
	pfp := &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{Action: batchv1.PodFailurePolicyActionFailJob,
		OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{3}}}}}
	p := podOf("p", corev1.PodFailed, -1)
	p.Status.InitContainerStatuses = []corev1.ContainerStatus{exited("init", 3)}
	if m := matchFailurePolicy(pfp, p); m == nil || m.Action != batchv1.PodFailurePolicyActionFailJob {
		t.Fatalf("init container exit code: %+v", m)
	}
}
