package servertest

import (
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Container is what Pods knows of one container.
type Container struct {
	// ID and LogPath are the current instance's.
	ID, LogPath string
	// PreviousID and PreviousLogPath are the last terminated instance's,
	// if any.
	PreviousID, PreviousLogPath string
	// Waiting, when set, is the reason the container has not started.
	Waiting string
}

// Pods is a table of pods, the agent's side of server.Pods, answering
// with the kubelet's errors.
type Pods struct {
	mu         sync.Mutex
	sandboxes  map[string]string    // by namespace/pod
	containers map[string]Container // by namespace/pod/container
}

// Add adds (or replaces) a pod with its sandbox and containers.
func (p *Pods) Add(namespace, pod, sandbox string, containers map[string]Container) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sandboxes == nil {
		p.sandboxes, p.containers = map[string]string{}, map[string]Container{}
	}
	p.sandboxes[namespace+"/"+pod] = sandbox
	for name, c := range containers {
		p.containers[namespace+"/"+pod+"/"+name] = c
	}
}

// Container returns a container's runtime ID and log path.
func (p *Pods) Container(namespace, pod, container string, previous bool) (string, string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.sandboxes[namespace+"/"+pod]; !ok {
		return "", "", apierrors.NewNotFound(corev1.Resource("pods"), pod)
	}
	c, ok := p.containers[namespace+"/"+pod+"/"+container]
	switch {
	case !ok:
		return "", "", fmt.Errorf("container %q in pod %q is not available", container, pod)
	case previous && c.PreviousID == "":
		return "", "", fmt.Errorf("previous terminated container %q in pod %q not found", container, pod)
	case previous:
		return c.PreviousID, c.PreviousLogPath, nil
	case c.Waiting != "":
		return "", "", fmt.Errorf("container %q in pod %q is waiting to start: %s", container, pod, c.Waiting)
	}
	return c.ID, c.LogPath, nil
}

// Sandbox returns a pod's sandbox ID.
func (p *Pods) Sandbox(namespace, pod string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id, ok := p.sandboxes[namespace+"/"+pod]
	if !ok {
		return "", apierrors.NewNotFound(corev1.Resource("pods"), pod)
	}
	return id, nil
}
