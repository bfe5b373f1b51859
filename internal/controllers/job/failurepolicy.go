package job

import (
	"fmt"
	"slices"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// policyMatch is the podFailurePolicy rule a failed pod matched: its
// action, and for FailJob the message the job's condition carries.
type policyMatch struct {
	Action  batchv1.PodFailurePolicyAction
	Message string
}

// matchFailurePolicy finds the first rule a failed pod matches; nil means
// no rule matched and the failure counts as usual. Rules are tried in
// order; an exit-code rule looks at terminated containers (regular and
// init) with a non-zero code, a condition rule at the pod's conditions.
func matchFailurePolicy(pfp *batchv1.PodFailurePolicy, pod *corev1.Pod) *policyMatch {
	if pfp == nil {
		return nil
	}
	for i, rule := range pfp.Rules {
		if req := rule.OnExitCodes; req != nil {
			cs := matchingContainer(pod, req)
			if cs == nil {
				continue
			}
			return &policyMatch{Action: rule.Action, Message: fmt.Sprintf(
				"Container %s for pod %s/%s failed with exit code %d matching %s rule at index %d",
				cs.Name, pod.Namespace, pod.Name, cs.State.Terminated.ExitCode, rule.Action, i)}
		}
		for _, pat := range rule.OnPodConditions {
			if c := podCondition(pod, pat.Type); c != nil && c.Status == pat.Status {
				return &policyMatch{Action: rule.Action, Message: fmt.Sprintf(
					"Pod %s/%s has condition %s matching %s rule at index %d",
					pod.Namespace, pod.Name, pat.Type, rule.Action, i)}
			}
		}
	}
	return nil
}

func matchingContainer(pod *corev1.Pod, req *batchv1.PodFailurePolicyOnExitCodesRequirement) *corev1.ContainerStatus {
	for _, list := range [][]corev1.ContainerStatus{pod.Status.ContainerStatuses, pod.Status.InitContainerStatuses} {
		for i := range list {
			cs := &list[i]
			t := cs.State.Terminated
			if t == nil || t.ExitCode == 0 {
				continue
			}
			if req.ContainerName != nil && *req.ContainerName != cs.Name {
				continue
			}
			in := slices.Contains(req.Values, t.ExitCode)
			if (req.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn) == in {
				return cs
			}
		}
	}
	return nil
}

func podCondition(pod *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == t {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}
