package agent

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Event reasons, as the kubelet records them.
const (
	eventCreated             = "Created"
	eventStarted             = "Started"
	eventFailed              = "Failed"
	eventKilling             = "Killing"
	eventBackOff             = "BackOff"
	eventUnhealthy           = "Unhealthy"
	eventFailedMount         = "FailedMount"
	eventFailedPostStartHook = "FailedPostStartHook"
	eventFailedPreStopHook   = "FailedPreStopHook"
	eventSandboxChanged      = "SandboxChanged"
	eventFailedSandbox       = "FailedCreatePodSandBox"
	eventPulled              = "Pulled"
	eventPulling             = "Pulling"
	eventDeadlineExceeded    = "DeadlineExceeded"
)

// nodeRef is the object node events are about; like the kubelet's, its
// UID is the node's name.
func (a *Agent) nodeRef() *corev1.ObjectReference {
	return &corev1.ObjectReference{Kind: "Node", Name: a.o.NodeName, UID: types.UID(a.o.NodeName)}
}

// podRef is the object a pod's events are about.
func podRef(pod *corev1.Pod) *corev1.ObjectReference {
	return &corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name,
		UID: pod.UID, ResourceVersion: pod.ResourceVersion}
}

// containerRef is the object a container's events are about: the pod,
// with the container's field path.
func containerRef(pod *corev1.Pod, name string) *corev1.ObjectReference {
	r := podRef(pod)
	r.FieldPath = containerFieldPath(pod, name)
	return r
}

// podEvent records an event about a pod.
func (a *Agent) podEvent(pod *corev1.Pod, typ, reason, format string, args ...any) {
	a.recorder.Event(podRef(pod), typ, reason, fmt.Sprintf(format, args...))
}

// containerEvent records an event about one of a pod's containers.
func (a *Agent) containerEvent(pod *corev1.Pod, name, typ, reason, format string, args ...any) {
	a.recorder.Event(containerRef(pod, name), typ, reason, fmt.Sprintf(format, args...))
}

// podDescription names a pod as the kubelet does in messages:
// name_namespace(uid).
func podDescription(pod *corev1.Pod) string {
	return fmt.Sprintf("%s_%s(%s)", pod.Name, pod.Namespace, pod.UID)
}
