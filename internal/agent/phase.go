package agent

import (
	corev1 "k8s.io/api/core/v1"
)

// podPhase computes a pod's phase from its container statuses, with the
// kubelet's rules:
//
//   - a failed init container fails the pod when it never restarts;
//   - the pod is Pending while an init container has not completed, a
//     sidecar has not started (before the pod was first initialized), or a
//     container waits for its first start;
//   - Running once every container has started and one still runs;
//   - when every container has stopped: Running if they will restart
//     (restartPolicy Always, or OnFailure after a failure), else Succeeded
//     when all exited 0 and Failed otherwise. A terminal pod (being
//     stopped for good) never counts as restarting.
//
// Sidecars count as running containers, but their exits do not decide the
// outcome.
func podPhase(pod *corev1.Pod, statuses []corev1.ContainerStatus, terminal, initialized bool) corev1.PodPhase {
	spec := &pod.Spec
	pendingInit, pendingSidecars, failedInit := 0, 0, 0
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		if isSidecar(c) {
			continue
		}
		st, ok := findStatus(statuses, c.Name)
		switch {
		case !ok:
			pendingInit++
		case st.State.Running != nil:
			pendingInit++
		case st.State.Terminated != nil:
			if st.State.Terminated.ExitCode != 0 {
				failedInit++
			}
		case st.State.Waiting != nil:
			if last := st.LastTerminationState.Terminated; last != nil {
				if last.ExitCode != 0 {
					failedInit++
				}
			} else {
				pendingInit++
			}
		default:
			pendingInit++
		}
	}

	unknown, running, waiting, stopped, ok0 := 0, 0, 0, 0, 0
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		if !isSidecar(c) {
			continue
		}
		st, ok := findStatus(statuses, c.Name)
		switch {
		case !ok:
			unknown++
		case st.State.Running != nil:
			if st.Started == nil || !*st.Started {
				pendingSidecars++
			}
			running++
		case st.State.Terminated != nil:
			// Exited sidecars do not decide the phase.
		case st.State.Waiting != nil:
			if st.LastTerminationState.Terminated == nil {
				pendingSidecars++
				waiting++
			}
		default:
			pendingSidecars++
			unknown++
		}
	}
	for i := range spec.Containers {
		st, ok := findStatus(statuses, spec.Containers[i].Name)
		switch {
		case !ok:
			unknown++
		case st.State.Running != nil:
			running++
		case st.State.Terminated != nil:
			stopped++
			if st.State.Terminated.ExitCode == 0 {
				ok0++
			}
		case st.State.Waiting != nil:
			if st.LastTerminationState.Terminated != nil {
				stopped++
			} else {
				waiting++
			}
		default:
			unknown++
		}
	}

	if failedInit > 0 && spec.RestartPolicy == corev1.RestartPolicyNever {
		return corev1.PodFailed
	}
	switch {
	case pendingInit > 0 || pendingSidecars > 0 && !initialized:
		return corev1.PodPending
	case waiting > 0:
		return corev1.PodPending
	case running > 0 && unknown == 0:
		return corev1.PodRunning
	case running == 0 && stopped > 0 && unknown == 0:
		if terminal && !isStatic(pod) {
			if stopped == ok0 {
				return corev1.PodSucceeded
			}
			return corev1.PodFailed
		}
		switch {
		case spec.RestartPolicy == corev1.RestartPolicyAlways:
			return corev1.PodRunning
		case stopped == ok0:
			return corev1.PodSucceeded
		case spec.RestartPolicy == corev1.RestartPolicyNever:
			return corev1.PodFailed
		}
		return corev1.PodRunning
	}
	return corev1.PodPending
}

// findStatus finds the named container's status.
func findStatus(statuses []corev1.ContainerStatus, name string) (*corev1.ContainerStatus, bool) {
	for i := range statuses {
		if statuses[i].Name == name {
			return &statuses[i], true
		}
	}
	return nil, false
}

// anyContainerStarted reports whether a regular container has ever run:
// the pod was initialized then, even if sidecars restart since.
func anyContainerStarted(pod *corev1.Pod, s *podState) bool {
	for _, c := range pod.Spec.Containers {
		if st := s.latest(c.Name); st != nil && (st.State == stateRunning || st.State == stateExited) {
			return true
		}
	}
	return false
}
