package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"skiff.dev/internal/agent/envvars"
)

// Mounts returns the CRI mounts for c's volumeMounts (and subPath), with
// HostPath pointing at the volume on the node.
//
// subPathExpr is expanded against the variables of c that need no lookups
// (literal values, fieldRef, resourceFieldRef; see envvars.ResolveLocal);
// use MountsWithEnv to expand against the full environment.
func (m *Manager) Mounts(pod *corev1.Pod, c *corev1.Container) ([]*runtimeapi.Mount, error) {
	var env []*runtimeapi.KeyValue
	if slices.ContainsFunc(c.VolumeMounts, func(vm corev1.VolumeMount) bool { return vm.SubPathExpr != "" }) {
		var err error
		env, err = envvars.ResolveLocal(pod, c, m.o.NodeAllocatable)
		if err != nil {
			return nil, fmt.Errorf("volumes: container %q: %w", c.Name, err)
		}
	}
	return m.MountsWithEnv(pod, c, env)
}

// MountsWithEnv is Mounts with subPathExpr expanded against env, the
// container's resolved environment (from envvars.Resolve), as the kubelet
// does. A reference to an undefined or empty variable is an error.
//
// configMap, secret, downwardAPI and projected volumes are always mounted
// read-only. A subPath that does not exist is created as a directory inside
// the volume; one that leaves the volume (through "..", or a symlink the
// container planted) is refused. The HostPath of a subPath mount is the
// resolved path, so a subPath of a configMap key does not see later updates
// — the same as with the kubelet.
func (m *Manager) MountsWithEnv(pod *corev1.Pod, c *corev1.Container, env []*runtimeapi.KeyValue) ([]*runtimeapi.Mount, error) {
	mounts := make([]*runtimeapi.Mount, 0, len(c.VolumeMounts))
	for _, vm := range c.VolumeMounts {
		mount, err := m.mount(pod, c, &vm, env)
		if err != nil {
			return nil, err
		}
		mounts = append(mounts, mount)
	}
	return mounts, nil
}

func (m *Manager) mount(pod *corev1.Pod, c *corev1.Container, vm *corev1.VolumeMount, env []*runtimeapi.KeyValue) (*runtimeapi.Mount, error) {
	i := slices.IndexFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == vm.Name })
	if i < 0 {
		return nil, fmt.Errorf("volumes: cannot find volume %q to mount into container %q", vm.Name, c.Name)
	}
	v := &pod.Spec.Volumes[i]
	if err := checkSupported(v); err != nil {
		return nil, err
	}
	host, err := m.volumePath(pod.UID, v)
	if err != nil {
		return nil, fmt.Errorf("volumes: volume %q: %w", v.Name, err)
	}
	sub := vm.SubPath
	if vm.SubPathExpr != "" {
		if sub, err = expandSubPath(vm.SubPathExpr, env); err != nil {
			return nil, fmt.Errorf("volumes: volumeMount %q of container %q: %w", vm.Name, c.Name, err)
		}
	}
	if sub != "" {
		if host, err = subPath(host, sub); err != nil {
			return nil, fmt.Errorf("volumes: volumeMount %q of container %q: %w", vm.Name, c.Name, err)
		}
	}
	prop, err := propagation(vm.MountPropagation)
	if err != nil {
		return nil, fmt.Errorf("volumes: volumeMount %q of container %q: %w", vm.Name, c.Name, err)
	}
	readOnly := vm.ReadOnly || apiData(typeOf(v))
	rro := vm.RecursiveReadOnly != nil && *vm.RecursiveReadOnly == corev1.RecursiveReadOnlyEnabled
	if rro && !readOnly {
		return nil, fmt.Errorf("volumes: volumeMount %q of container %q: recursiveReadOnly needs readOnly", vm.Name, c.Name)
	}
	return &runtimeapi.Mount{
		ContainerPath:     vm.MountPath,
		HostPath:          host,
		Readonly:          readOnly,
		RecursiveReadOnly: rro,
		SelinuxRelabel:    false,
		Propagation:       prop,
	}, nil
}

// expandSubPath expands $(VAR) in a subPathExpr; like the kubelet it fails
// on variables that are undefined or empty.
func expandSubPath(expr string, env []*runtimeapi.KeyValue) (string, error) {
	vals := make(map[string]string, len(env))
	for _, kv := range env {
		vals[kv.Key] = kv.Value
	}
	var missing []string
	out := envvars.Expand(expr, func(name string) (string, bool) {
		v := vals[name]
		if v == "" && !slices.Contains(missing, name) {
			missing = append(missing, name)
		}
		return v, true
	})
	if len(missing) > 0 {
		slices.Sort(missing)
		return "", fmt.Errorf("missing value for %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// subPath returns the resolved path of sub inside the volume at root,
// creating it as a directory (with the volume's mode) when missing.
func subPath(root, sub string) (string, error) {
	if filepath.IsAbs(sub) {
		return "", fmt.Errorf("error SubPath `%s` must not be an absolute path", sub)
	}
	if slices.Contains(strings.Split(filepath.ToSlash(sub), "/"), "..") {
		return "", fmt.Errorf("unable to provision SubPath `%s`: must not contain '..'", sub)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("subPath %s: volume: %w", sub, err)
	}
	info, err := os.Stat(realRoot)
	if err != nil {
		return "", fmt.Errorf("subPath %s: volume: %w", sub, err)
	}
	cur := realRoot
	for _, part := range strings.Split(filepath.Clean(sub), string(filepath.Separator)) {
		next := filepath.Join(cur, part)
		fi, err := os.Lstat(next)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.Mkdir(next, info.Mode().Perm()); err != nil && !errors.Is(err, fs.ErrExist) {
				return "", fmt.Errorf("subPath %s: %w", sub, err)
			}
			if err := os.Chmod(next, info.Mode().Perm()); err != nil {
				return "", fmt.Errorf("subPath %s: %w", sub, err)
			}
		case err != nil:
			return "", fmt.Errorf("subPath %s: %w", sub, err)
		case fi.Mode()&fs.ModeSymlink != 0:
			if next, err = filepath.EvalSymlinks(next); err != nil {
				return "", fmt.Errorf("subPath %s: %w", sub, err)
			}
		}
		if !within(realRoot, next) {
			return "", fmt.Errorf("subPath %s: leaves the volume", sub)
		}
		cur = next
	}
	return cur, nil
}

// within reports whether path is root or below it (both clean and absolute).
func within(root, path string) bool {
	return path == root || strings.HasPrefix(path, root+string(filepath.Separator))
}

func propagation(mode *corev1.MountPropagationMode) (runtimeapi.MountPropagation, error) {
	if mode == nil {
		return runtimeapi.MountPropagation_PROPAGATION_PRIVATE, nil
	}
	switch *mode {
	case corev1.MountPropagationNone:
		return runtimeapi.MountPropagation_PROPAGATION_PRIVATE, nil
	case corev1.MountPropagationHostToContainer:
		return runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER, nil
	case corev1.MountPropagationBidirectional:
		return runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL, nil
	}
	return 0, fmt.Errorf("invalid MountPropagation mode: %q", *mode)
}
