// Package volumes materialises a pod's volumes on the node: emptyDir,
// hostPath, configMap, secret, downwardAPI and projected, each as a directory
// (or file) under the agent's data dir that the runtime mounts at the
// container's mountPath.
package volumes

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Source looks up the objects that volumes refer to.
type Source interface {
	ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error)
	Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
}

// Options configure a Manager.
type Options struct {
	// Root is the directory under which each pod's volumes live
	// (Root/<podUID>/volumes/<name>).
	Root string
	// Source serves ConfigMaps and Secrets.
	Source Source
	// NodeAllocatable is used by downwardAPI resourceFieldRef items when the
	// container sets no limit.
	NodeAllocatable corev1.ResourceList
}

// Manager sets up and tears down pod volumes.
type Manager struct {
	o Options
}

// New validates o and returns a Manager.
func New(o Options) (*Manager, error) {
	return nil, errors.New("volumes: not implemented yet")
}

// Setup creates or refreshes the pod's volumes. configMap, secret,
// downwardAPI and projected contents are replaced atomically, so a running
// container sees either the old or the new files. An unknown or unsupported
// volume type is an error naming the volume.
func (m *Manager) Setup(ctx context.Context, pod *corev1.Pod) error {
	return errors.New("volumes: not implemented yet")
}

// Mounts returns the CRI mounts for c's volumeMounts (and subPath), with
// HostPath pointing at the volume on the node.
func (m *Manager) Mounts(pod *corev1.Pod, c *corev1.Container) ([]*runtimeapi.Mount, error) {
	return nil, errors.New("volumes: not implemented yet")
}

// Cleanup removes everything the pod's volumes left on the node.
func (m *Manager) Cleanup(podUID types.UID) error {
	return errors.New("volumes: not implemented yet")
}
