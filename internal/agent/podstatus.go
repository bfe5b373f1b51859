package agent

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubectl/pkg/util/qos"
)

// statusInput is everything a pod's status is computed from.
type statusInput struct {
	// Pod is the pod as the API last showed it (spec and status).
	Pod *corev1.Pod
	// Old is the status the agent last computed, nil when it has none yet
	// (then the API's status stands in for it).
	Old *corev1.PodStatus
	// State is what the runtime reports.
	State *podState
	// Failures are the last start failures by container name.
	Failures map[string]startFailure
	// Probes gives probe results.
	Probes probeView
	// RuntimeName prefixes container IDs (<runtime>://<id>).
	RuntimeName string
	// HostIPs are the node's IPs, primary first.
	HostIPs []string
	// Terminal is set once the pod is being stopped for good: containers
	// will not restart, so stopped containers decide the final phase.
	Terminal bool
	// FailReason, when set, fails the pod with this reason and FailMessage
	// (the agent ended it, e.g. DeadlineExceeded).
	FailReason, FailMessage string
	// Now stamps condition transitions and the start time.
	Now time.Time
}

// podStatus computes a pod's status, as the kubelet's status generation and
// status manager do together: phase, conditions (keeping the ones the
// agent does not own, and their transition times when unchanged), IPs,
// QoS class, start time and container statuses. A terminal phase is never
// left.
func podStatus(in statusInput) corev1.PodStatus {
	pod := in.Pod
	old := pod.Status
	if in.Old != nil {
		old = *in.Old
	}
	var s corev1.PodStatus
	if sb := in.State.sandbox(); sb != nil && sb.Ready {
		for _, ip := range sb.IPs {
			s.PodIPs = append(s.PodIPs, corev1.PodIP{IP: ip})
		}
	}
	if len(s.PodIPs) == 0 {
		// The sandbox is gone (the pod finished): keep the IPs it had.
		s.PodIPs = old.PodIPs
	}
	if len(s.PodIPs) > 0 {
		s.PodIP = s.PodIPs[0].IP
	}
	s.QOSClass = qos.GetPodQOS(pod)
	s.ContainerStatuses = containerStatuses(&in, pod.Spec.Containers, old.ContainerStatuses, false)
	s.InitContainerStatuses = containerStatuses(&in, pod.Spec.InitContainers, old.InitContainerStatuses, true)
	all := append(append([]corev1.ContainerStatus{}, s.ContainerStatuses...), s.InitContainerStatuses...)
	s.Phase = podPhase(pod, all, in.Terminal, anyContainerStarted(pod, in.State))

	if !terminalPhase(s.Phase) {
		switch {
		case terminalPhase(old.Phase):
			s.Phase = old.Phase
		case terminalPhase(pod.Status.Phase):
			s.Phase = pod.Status.Phase
		}
	}
	if s.Phase == old.Phase {
		s.Reason, s.Message = old.Reason, old.Message
		if s.Reason == "" {
			s.Reason = pod.Status.Reason
		}
		if s.Message == "" {
			s.Message = pod.Status.Message
		}
	}
	if in.FailReason != "" {
		s.Phase, s.Reason, s.Message = corev1.PodFailed, in.FailReason, in.FailMessage
	}
	if terminalPhase(pod.Status.Phase) {
		s.Phase = pod.Status.Phase
	}

	for _, c := range pod.Status.Conditions {
		if !ownedCondition(c.Type) {
			s.Conditions = append(s.Conditions, c)
		}
	}
	gen := pod.Generation
	initAll := append(append([]corev1.ContainerStatus{}, s.InitContainerStatuses...), s.ContainerStatuses...)
	ready := readyCondition(pod, s.Conditions, all, s.Phase)
	s.Conditions = append(s.Conditions,
		readyToStartCondition(in.State),
		initializedCondition(pod, initAll, s.Phase),
		ready,
		containersReadyCondition(pod, all, s.Phase),
		corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue})
	for i := range s.Conditions {
		if ownedCondition(s.Conditions[i].Type) {
			s.Conditions[i].ObservedGeneration = gen
		}
	}

	if len(in.HostIPs) > 0 {
		s.HostIP = in.HostIPs[0]
		for _, ip := range in.HostIPs {
			s.HostIPs = append(s.HostIPs, corev1.HostIP{IP: ip})
		}
		if pod.Spec.HostNetwork && s.PodIP == "" {
			s.PodIP = in.HostIPs[0]
			s.PodIPs = []corev1.PodIP{{IP: s.PodIP}}
		}
	}
	s.ObservedGeneration = gen
	s.NominatedNodeName = pod.Status.NominatedNodeName
	s.ResourceClaimStatuses = pod.Status.ResourceClaimStatuses
	s.StartTime = old.StartTime
	if s.StartTime == nil {
		s.StartTime = pod.Status.StartTime
	}
	if s.StartTime == nil {
		t := apiTime(in.Now)
		s.StartTime = &t
	}
	keepTransitions(old.Conditions, s.Conditions, in.Now)
	return s
}

// keepTransitions stamps each condition's lastTransitionTime: kept from
// the old condition of that type when its status did not change, now
// otherwise.
func keepTransitions(old, conds []corev1.PodCondition, now time.Time) {
	for i := range conds {
		c := &conds[i]
		if !ownedCondition(c.Type) {
			continue
		}
		c.LastTransitionTime = apiTime(now)
		for _, o := range old {
			if o.Type == c.Type && o.Status == c.Status && !o.LastTransitionTime.IsZero() {
				c.LastTransitionTime = o.LastTransitionTime
			}
		}
	}
}

func terminalPhase(p corev1.PodPhase) bool {
	return p == corev1.PodSucceeded || p == corev1.PodFailed
}

// ownedCondition reports whether the agent owns (rewrites) a condition.
func ownedCondition(t corev1.PodConditionType) bool {
	switch t {
	case corev1.PodScheduled, corev1.PodReady, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReadyToStartContainers:
		return true
	}
	return false
}

// deadlineExceeded reports whether the pod ran longer than its
// activeDeadlineSeconds.
func deadlineExceeded(pod *corev1.Pod, start *metav1.Time, now time.Time) bool {
	d := pod.Spec.ActiveDeadlineSeconds
	return d != nil && start != nil && now.Sub(start.Time) >= time.Duration(*d)*time.Second
}
