package agent

import (
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/internal/agent/probe"
)

// Waiting reasons the agent reports, as the kubelet does.
const (
	reasonContainerCreating   = "ContainerCreating"
	reasonPodInitializing     = "PodInitializing"
	reasonCrashLoopBackOff    = "CrashLoopBackOff"
	reasonCreateConfigError   = "CreateContainerConfigError"
	reasonCreateError         = "CreateContainerError"
	reasonRunError            = "RunContainerError"
	reasonPostStartHookError  = "PostStartHookError"
	reasonErrImagePull        = "ErrImagePull"
	reasonImagePullBackOff    = "ImagePullBackOff"
	reasonErrImageNeverPull   = "ErrImageNeverPull"
	reasonStatusUnknown       = "ContainerStatusUnknown"
	reasonCompleted           = "Completed"
	reasonError               = "Error"
	messageLostWhenTerminated = "The container could not be located when the pod was terminated"
	messageLostWhenDeleted    = "The container could not be located when the pod was deleted.  The container used to be Running"
)

// startFailure is why the last attempt to start a container failed; the
// container shows it as its waiting reason until a start succeeds.
type startFailure struct {
	Reason  string `json:"reason"`
	Message string `json:"message,omitempty"`
}

// containerStatuses builds the statuses of containers (the init
// containers when init is set) from the runtime's instances, the previous
// statuses and the last start failures, as the kubelet does: the newest
// instance gives the state, the one before it the last state; a container
// that will be started again shows why it is waiting.
func containerStatuses(in *statusInput, containers []corev1.Container, old []corev1.ContainerStatus, init bool) []corev1.ContainerStatus {
	pod, s := in.Pod, in.State
	oldByName := map[string]corev1.ContainerStatus{}
	for _, st := range old {
		oldByName[st.Name] = st
	}
	defaultWaiting := reasonContainerCreating
	if len(pod.Spec.InitContainers) > 0 {
		defaultWaiting = reasonPodInitializing
	}

	out := make([]corev1.ContainerStatus, len(containers))
	for i := range containers {
		c := &containers[i]
		st := corev1.ContainerStatus{Name: c.Name, Image: c.Image,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: defaultWaiting}}}
		if o, ok := oldByName[c.Name]; ok {
			if o.State.Terminated != nil {
				st = *o.DeepCopy()
			} else {
				st.RestartCount = o.RestartCount
				st.LastTerminationState = *o.LastTerminationState.DeepCopy()
			}
		}
		if s.latest(c.Name) == nil {
			// The container is gone from the runtime. If it used to run,
			// it did stop: say so rather than fall back to waiting.
			if o, ok := oldByName[c.Name]; ok && o.State.Running != nil && o.State.Terminated == nil &&
				st.State.Waiting != nil && st.State.Waiting.Reason == defaultWaiting && st.LastTerminationState.Terminated == nil {
				st.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{
					Reason: reasonStatusUnknown, Message: messageLostWhenDeleted, ExitCode: 137}
				if pod.DeletionTimestamp == nil {
					st.RestartCount++
				}
			}
		} else {
			seen := 0
			for j := range s.Containers {
				cs := &s.Containers[j]
				if cs.Name != c.Name {
					continue
				}
				var op *corev1.ContainerStatus
				if o, ok := oldByName[c.Name]; ok {
					op = &o
				}
				conv := convertContainer(in, c, cs, op)
				if seen == 0 {
					st = conv
				} else {
					st.LastTerminationState = conv.State
				}
				if seen++; seen == 2 {
					break
				}
			}
		}
		out[i] = st
	}

	for i := range containers {
		c := &containers[i]
		st := &out[i]
		latest := s.latest(c.Name)
		if init && succeeded(latest) {
			continue
		}
		if init && latest == nil && !isSidecar(c) && st.State.Waiting != nil && anyContainerCreated(pod, s) {
			st.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reasonCompleted,
				Message: "Unable to get init container status from container runtime and pod has been initialized, treat it as exited normally"}}
			continue
		}
		if !shouldStart(pod, latest) {
			continue
		}
		f, ok := in.Failures[c.Name]
		if !ok {
			continue
		}
		if st.State.Terminated != nil {
			st.LastTerminationState = st.State
		}
		st.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: f.Reason, Message: f.Message}}
	}

	for i := range containers {
		setStartedReady(in, &containers[i], &out[i], oldByName, init)
	}
	if !init {
		slices.SortFunc(out, func(a, b corev1.ContainerStatus) int { return strings.Compare(a.Name, b.Name) })
	}
	return out
}

// convertContainer turns one runtime instance into a container status.
func convertContainer(in *statusInput, c *corev1.Container, cs *containerState, old *corev1.ContainerStatus) corev1.ContainerStatus {
	id := in.RuntimeName + "://" + cs.ID
	st := corev1.ContainerStatus{
		Name:         c.Name,
		Image:        c.Image,
		ImageID:      cs.ImageRef,
		ContainerID:  id,
		RestartCount: cs.Attempt,
	}
	if cs.Image != "" {
		st.Image = cs.Image
	}
	switch {
	case cs.State == stateRunning:
		st.State.Running = &corev1.ContainerStateRunning{StartedAt: apiTime(cs.StartedAt)}
	case cs.State == stateCreated:
		st.State.Waiting = &corev1.ContainerStateWaiting{}
	case cs.State == stateExited:
		reason := cs.Reason
		if reason == "" {
			reason = reasonCompleted
			if cs.ExitCode != 0 {
				reason = reasonError
			}
		}
		st.State.Terminated = &corev1.ContainerStateTerminated{
			ExitCode: cs.ExitCode, Reason: reason, Message: cs.Message,
			StartedAt: apiTime(cs.StartedAt), FinishedAt: apiTime(cs.FinishedAt), ContainerID: id}
	case old != nil && old.State.Running != nil:
		st.State.Terminated = &corev1.ContainerStateTerminated{
			Reason: reasonStatusUnknown, Message: messageLostWhenTerminated, ExitCode: 137}
		st.RestartCount = old.RestartCount + 1
	default:
		st.State.Waiting = &corev1.ContainerStateWaiting{}
	}
	return st
}

// setStartedReady fills started and ready from the state and the probes:
// a running container has started once its startup probe succeeded, and is
// ready once started and its readiness probe succeeded; a regular init
// container is ready once it exited 0.
func setStartedReady(in *statusInput, c *corev1.Container, st *corev1.ContainerStatus, old map[string]corev1.ContainerStatus, init bool) {
	id := strings.TrimPrefix(st.ContainerID, in.RuntimeName+"://")
	started := false
	if st.State.Running != nil {
		started = c.StartupProbe == nil || in.Probes(c.Name, id, probe.Startup) == probe.Success
		if o, ok := old[c.Name]; ok && !started && o.ContainerID == st.ContainerID && o.Started != nil && *o.Started {
			started = true // an agent restart does not unstart a container
		}
	}
	st.Started = &started
	if init && !isSidecar(c) {
		st.Ready = st.State.Terminated != nil && st.State.Terminated.ExitCode == 0
		return
	}
	st.Ready = started && (c.ReadinessProbe == nil || in.Probes(c.Name, id, probe.Readiness) == probe.Success)
}

// anyContainerCreated reports whether a regular container exists in the
// runtime, which means the init containers all completed once.
func anyContainerCreated(pod *corev1.Pod, s *podState) bool {
	for _, c := range pod.Spec.Containers {
		if s.latest(c.Name) != nil {
			return true
		}
	}
	return false
}

// apiTime is t as the API stores it (whole seconds), so statuses compare
// equal after a round trip; the zero time stays zero.
func apiTime(t time.Time) metav1.Time {
	if t.IsZero() {
		return metav1.Time{}
	}
	return metav1.NewTime(t).Rfc3339Copy()
}
