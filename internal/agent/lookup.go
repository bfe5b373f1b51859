package agent

import (
	"fmt"
	"net/http"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Container returns the runtime ID and the absolute log file of a pod's
// container, for logs, exec and attach: the running instance, or the last
// one that ran; with previous, the last terminated instance before the
// current one. An unknown pod or container is a NotFound error; a
// container with no such instance is a BadRequest with the kubelet's
// message (e.g. `previous terminated container "c" in pod "p" not found`).
func (a *Agent) Container(namespace, pod, container string, previous bool) (id, logPath string, err error) {
	w, p := a.findPod(namespace, pod)
	if w == nil {
		return "", "", apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, pod)
	}
	if findContainer(p, container) == nil {
		return "", "", notFound(fmt.Sprintf("container %q in pod %q is not available", container, pod))
	}
	w.mu.Lock()
	status := p.Status
	if w.status != nil {
		status = *w.status.DeepCopy()
	}
	state := w.state
	w.mu.Unlock()

	cs, ok := findStatus(status.ContainerStatuses, container)
	if !ok {
		cs, ok = findStatus(status.InitContainerStatuses, container)
	}
	if !ok {
		return "", "", apierrors.NewBadRequest(fmt.Sprintf("container %q in pod %q is waiting to start - no logs yet", container, pod))
	}
	cid, err := logContainerID(cs, container, pod, previous)
	if err != nil {
		return "", "", err
	}
	cid = cid[strings.Index(cid, "://")+3:]
	if state != nil {
		for _, c := range state.Containers {
			if c.ID == cid {
				return cid, w.logPath(c.Name, c.Attempt), nil
			}
		}
	}
	return "", "", notFound(fmt.Sprintf("container %q in pod %q is gone from the runtime", container, pod))
}

// logContainerID picks the container instance whose logs are asked for,
// from the container's status, as the kubelet does.
func logContainerID(cs *corev1.ContainerStatus, container, pod string, previous bool) (string, error) {
	last := cs.LastTerminationState.Terminated
	switch {
	case previous:
		if last == nil || last.ContainerID == "" {
			return "", apierrors.NewBadRequest(fmt.Sprintf("previous terminated container %q in pod %q not found", container, pod))
		}
		return last.ContainerID, nil
	case cs.State.Running != nil && cs.ContainerID != "":
		return cs.ContainerID, nil
	case cs.State.Terminated != nil:
		if cs.State.Terminated.ContainerID != "" {
			return cs.State.Terminated.ContainerID, nil
		}
		if last != nil && last.ContainerID != "" {
			return last.ContainerID, nil
		}
		return "", apierrors.NewBadRequest(fmt.Sprintf("container %q in pod %q is terminated", container, pod))
	case last != nil:
		if last.ContainerID == "" {
			return "", apierrors.NewBadRequest(fmt.Sprintf("container %q in pod %q is terminated", container, pod))
		}
		return last.ContainerID, nil
	case cs.State.Waiting != nil:
		return "", apierrors.NewBadRequest(fmt.Sprintf("container %q in pod %q is waiting to start: %s", container, pod, cs.State.Waiting.Reason))
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("container %q in pod %q is waiting to start - no logs yet", container, pod))
}

// Sandbox returns the ID of the pod's ready sandbox, for port-forward. An
// unknown pod, or one with no ready sandbox, is a NotFound error.
func (a *Agent) Sandbox(namespace, pod string) (string, error) {
	w, _ := a.findPod(namespace, pod)
	if w == nil {
		return "", apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, pod)
	}
	w.mu.Lock()
	state := w.state
	w.mu.Unlock()
	if sb := state.sandbox(); sb != nil && sb.Ready {
		return sb.ID, nil
	}
	return "", notFound(fmt.Sprintf("pod %q has no running sandbox", pod))
}

// findPod finds the worker of a pod by name (a static pod's name is its
// mirror pod's).
func (a *Agent) findPod(namespace, name string) (*worker, *corev1.Pod) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var found *worker
	var pod *corev1.Pod
	for _, w := range a.workers {
		w.mu.Lock()
		p, removed := w.pod, w.removed
		w.mu.Unlock()
		if p.Namespace != namespace || p.Name != name || removed {
			continue
		}
		// A pod being replaced by one of the same name: prefer the new one.
		if found == nil || pod.DeletionTimestamp != nil && p.DeletionTimestamp == nil {
			found, pod = w, p
		}
	}
	return found, pod
}

// notFound is a NotFound API error with a message of its own.
func notFound(msg string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusNotFound,
		Reason: metav1.StatusReasonNotFound, Message: msg}}
}
