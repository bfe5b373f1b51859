package agent

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Condition reasons, as the kubelet reports them.
const (
	reasonUnknownStatuses     = "UnknownContainerStatuses"
	reasonPodCompleted        = "PodCompleted"
	reasonPodFailed           = "PodFailed"
	reasonContainersNotReady  = "ContainersNotReady"
	reasonNotInitialized      = "ContainersNotInitialized"
	reasonReadinessGatesUnmet = "ReadinessGatesNotReady"
)

// readyToStartCondition is PodReadyToStartContainers: True once the pod
// has a ready sandbox.
func readyToStartCondition(s *podState) corev1.PodCondition {
	c := corev1.PodCondition{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionFalse}
	if changed, _ := sandboxChanged(s); !changed {
		c.Status = corev1.ConditionTrue
	}
	return c
}

// containersReadyCondition is ContainersReady: True when every container
// and sidecar is ready.
func containersReadyCondition(pod *corev1.Pod, statuses []corev1.ContainerStatus, phase corev1.PodPhase) corev1.PodCondition {
	c := corev1.PodCondition{Type: corev1.ContainersReady, Status: corev1.ConditionFalse}
	var unknown, unready []string
	check := func(name string) {
		st, ok := findStatus(statuses, name)
		switch {
		case !ok:
			unknown = append(unknown, name)
		case !st.Ready:
			unready = append(unready, name)
		}
	}
	for i := range pod.Spec.InitContainers {
		if isSidecar(&pod.Spec.InitContainers[i]) {
			check(pod.Spec.InitContainers[i].Name)
		}
	}
	for _, ct := range pod.Spec.Containers {
		check(ct.Name)
	}
	switch {
	case phase == corev1.PodSucceeded && len(unknown) == 0:
		c.Reason = reasonPodCompleted
		return c
	case phase == corev1.PodFailed:
		c.Reason = reasonPodFailed
		return c
	}
	if msg := notReadyMessage(unknown, "unknown", unready, "unready"); msg != "" {
		c.Reason, c.Message = reasonContainersNotReady, msg
		return c
	}
	c.Status = corev1.ConditionTrue
	return c
}

// readyCondition is Ready: ContainersReady, and every readiness gate True.
func readyCondition(pod *corev1.Pod, conds []corev1.PodCondition, statuses []corev1.ContainerStatus, phase corev1.PodPhase) corev1.PodCondition {
	cr := containersReadyCondition(pod, statuses, phase)
	if cr.Status != corev1.ConditionTrue {
		return corev1.PodCondition{Type: corev1.PodReady, Status: cr.Status, Reason: cr.Reason, Message: cr.Message}
	}
	var msgs []string
	for _, g := range pod.Spec.ReadinessGates {
		var found *corev1.PodCondition
		for i := range conds {
			if conds[i].Type == g.ConditionType {
				found = &conds[i]
			}
		}
		switch {
		case found == nil:
			msgs = append(msgs, fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist.", g.ConditionType))
		case found.Status != corev1.ConditionTrue:
			msgs = append(msgs, fmt.Sprintf("the status of pod readiness gate %q is not \"True\", but %v", g.ConditionType, found.Status))
		}
	}
	if len(msgs) > 0 {
		return corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionFalse,
			Reason: reasonReadinessGatesUnmet, Message: strings.Join(msgs, ", ")}
	}
	return corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue}
}

// initializedCondition is Initialized: True once every init container
// completed and every sidecar started (or once a container has run).
func initializedCondition(pod *corev1.Pod, statuses []corev1.ContainerStatus, phase corev1.PodPhase) corev1.PodCondition {
	c := corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionFalse}
	var unknown, incomplete []string
	for i := range pod.Spec.InitContainers {
		ic := &pod.Spec.InitContainers[i]
		st, ok := findStatus(statuses, ic.Name)
		switch {
		case !ok:
			unknown = append(unknown, ic.Name)
		case isSidecar(ic) && (st.Started == nil || !*st.Started):
			incomplete = append(incomplete, ic.Name)
		case !isSidecar(ic) && !st.Ready:
			incomplete = append(incomplete, ic.Name)
		}
	}
	if phase == corev1.PodSucceeded && len(unknown) == 0 {
		c.Status, c.Reason = corev1.ConditionTrue, reasonPodCompleted
		return c
	}
	for _, ct := range pod.Spec.Containers {
		if st, ok := findStatus(statuses, ct.Name); ok && (st.State.Running != nil || st.State.Terminated != nil) {
			c.Status = corev1.ConditionTrue
			return c
		}
	}
	if msg := notReadyMessage(unknown, "unknown", incomplete, "incomplete"); msg != "" {
		c.Reason, c.Message = reasonNotInitialized, msg
		return c
	}
	c.Status = corev1.ConditionTrue
	return c
}

// notReadyMessage is "containers with unknown status: [a], containers with
// unready status: [b]", leaving out empty parts.
func notReadyMessage(a []string, aWord string, b []string, bWord string) string {
	var parts []string
	if len(a) > 0 {
		parts = append(parts, fmt.Sprintf("containers with %s status: %s", aWord, a))
	}
	if len(b) > 0 {
		parts = append(parts, fmt.Sprintf("containers with %s status: %s", bWord, b))
	}
	return strings.Join(parts, ", ")
}
