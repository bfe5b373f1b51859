// Package volumes materialises a pod's volumes on the node: emptyDir,
// hostPath, configMap, secret, downwardAPI and projected, each as a directory
// (or file) under the agent's data dir that the runtime mounts at the
// container's mountPath.
//
// Layout: Root/<podUID>/volumes/<volume name>. hostPath volumes are not
// copied: their mounts point at the host path itself.
//
// configMap, secret, downwardAPI and projected volumes are written the way
// the kubelet's atomic writer does, so a running container sees either the
// old or the new set of files, never a mix:
//
//	<volume>/..2025_01_02_15_04_05.123456789/<files>   one version of the data
//	<volume>/..data -> ..2025_01_02_15_04_05.123456789 swapped with rename(2)
//	<volume>/<key>  -> ..data/<key>                   what the container reads
//
// Setup is idempotent: run it again to refresh those volumes after their
// ConfigMaps or Secrets (or the pod's labels and annotations) change; an
// unchanged payload leaves the volume untouched.
//
// Not supported, by design of a single-binary node: volumes backed by storage
// systems (persistentVolumeClaim, nfs, csi, iscsi, ephemeral, image…) — they
// fail with an UnsupportedError. emptyDir's medium Memory is a plain
// directory (no tmpfs) and sizeLimit is not enforced; fsGroup does not change
// file ownership; subPath safety checks resolve symlinks before the mount but
// cannot pin the path the way the kubelet's bind-mount dance does.
package volumes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Source looks up the objects that volumes refer to.
type Source interface {
	ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error)
	Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
}

// Tokens issues service account tokens for projected serviceAccountToken
// sources (the agent implements it with the TokenRequest API). The Manager
// caches each token and asks again once 80% of its lifetime has passed.
type Tokens interface {
	ServiceAccountToken(ctx context.Context, pod *corev1.Pod, audience string, expirationSeconds int64) (string, error)
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
	// Tokens serves projected serviceAccountToken sources; without it such
	// a volume fails to set up.
	Tokens Tokens
}

// Manager sets up and tears down pod volumes.
type Manager struct {
	o Options

	mu     sync.Mutex
	tokens map[tokenKey]token
	pods   map[types.UID]*sync.Mutex // serialises Setup and Cleanup per pod
}

// UnsupportedError reports a volume of a type this node cannot provide.
type UnsupportedError struct {
	Volume string
	Type   string // the VolumeSource field name, e.g. persistentVolumeClaim
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("volumes: volume %q has unsupported type %s", e.Volume, e.Type)
}

// New validates o and returns a Manager.
func New(o Options) (*Manager, error) {
	if o.Root == "" {
		return nil, errors.New("volumes: Options.Root is required")
	}
	root, err := filepath.Abs(o.Root)
	if err != nil {
		return nil, fmt.Errorf("volumes: root: %w", err)
	}
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, fmt.Errorf("volumes: root: %w", err)
	}
	o.Root = root
	return &Manager{o: o, tokens: map[tokenKey]token{}, pods: map[types.UID]*sync.Mutex{}}, nil
}

// Setup creates or refreshes the pod's volumes. configMap, secret,
// downwardAPI and projected contents are replaced atomically, so a running
// container sees either the old or the new files. An unknown or unsupported
// volume type is an error naming the volume.
//
// Calls for the same pod are serialised; different pods set up in parallel.
func (m *Manager) Setup(ctx context.Context, pod *corev1.Pod) error {
	for i := range pod.Spec.Volumes {
		if err := checkSupported(&pod.Spec.Volumes[i]); err != nil {
			return err
		}
	}
	unlock := m.lockPod(pod.UID)
	defer unlock()
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if err := m.setup(ctx, pod, v); err != nil {
			return fmt.Errorf("volumes: volume %q: %w", v.Name, err)
		}
	}
	return nil
}

func (m *Manager) setup(ctx context.Context, pod *corev1.Pod, v *corev1.Volume) error {
	if v.HostPath != nil {
		return checkHostPath(v.HostPath)
	}
	dir, err := m.volumeDir(pod.UID, v.Name)
	if err != nil {
		return err
	}
	if v.ConfigMap == nil && v.Secret == nil && v.DownwardAPI == nil && v.Projected == nil {
		// emptyDir: world-writable like the kubelet's, so any container
		// user can write to it.
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return err
		}
		return os.Chmod(dir, 0o777)
	}
	files, err := m.payload(ctx, pod, v)
	if err != nil {
		return err
	}
	return writeAtomic(dir, files)
}

// lockPod takes the pod's lock and returns its release.
func (m *Manager) lockPod(uid types.UID) (unlock func()) {
	m.mu.Lock()
	l, ok := m.pods[uid]
	if !ok {
		l = &sync.Mutex{}
		m.pods[uid] = l
	}
	m.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// volumeDir is Root/<uid>/volumes/<name>, refusing names that would leave it.
func (m *Manager) volumeDir(uid types.UID, name string) (string, error) {
	pod, err := m.podDir(uid)
	if err != nil {
		return "", err
	}
	if !isPathElement(name) {
		return "", fmt.Errorf("invalid volume name %q", name)
	}
	return filepath.Join(pod, "volumes", name), nil
}

func (m *Manager) podDir(uid types.UID) (string, error) {
	if !isPathElement(string(uid)) {
		return "", fmt.Errorf("volumes: invalid pod UID %q", uid)
	}
	return filepath.Join(m.o.Root, string(uid)), nil
}

func isPathElement(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, `/\`)
}

// volumePath is where a volume lives on the node.
func (m *Manager) volumePath(uid types.UID, v *corev1.Volume) (string, error) {
	if v.HostPath != nil {
		return v.HostPath.Path, nil
	}
	return m.volumeDir(uid, v.Name)
}

// supported lists the volume types this node provides.
var supported = map[string]bool{
	"emptyDir": true, "hostPath": true, "configMap": true, "secret": true,
	"downwardAPI": true, "projected": true,
}

func checkSupported(v *corev1.Volume) error {
	if t := typeOf(v); !supported[t] {
		return &UnsupportedError{Volume: v.Name, Type: t}
	}
	return nil
}

// typeOf names the set field of the volume's source by its JSON name; a
// volume with none set is an emptyDir, as API defaulting makes it.
func typeOf(v *corev1.Volume) string {
	rv := reflect.ValueOf(v.VolumeSource)
	rt := rv.Type()
	for i := range rt.NumField() {
		if f := rv.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			return name
		}
	}
	return "emptyDir"
}

// apiData reports the types the kubelet always mounts read-only.
func apiData(t string) bool {
	return t == "configMap" || t == "secret" || t == "downwardAPI" || t == "projected"
}
