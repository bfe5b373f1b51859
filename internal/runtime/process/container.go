package process

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// CreateContainer records a container; StartContainer runs it. The command
// is ContainerConfig.Command followed by Args: the process runtime has no
// images, so it cannot fall back to an image's entrypoint, and the image
// name is only recorded.
func (r *Runtime) CreateContainer(ctx context.Context, podSandboxID string, config *runtimeapi.ContainerConfig, sandboxConfig *runtimeapi.PodSandboxConfig) (string, error) {
	sb, err := r.sandbox(podSandboxID)
	if err != nil {
		return "", err
	}
	r.mu.Lock()
	ready, sbCgroups, logDir := sb.Ready, sb.Cgroups, sb.LogDirectory
	r.mu.Unlock()
	if !ready {
		return "", status.Errorf(codes.FailedPrecondition, "process: pod sandbox %q is not ready", podSandboxID)
	}
	if config.GetMetadata() == nil {
		return "", status.Error(codes.InvalidArgument, "process: container config has no metadata")
	}
	id, err := newID()
	if err != nil {
		return "", err
	}
	rec, err := r.containerRecord(id, config, sandboxConfig)
	if err != nil {
		return "", err
	}
	rec.SandboxID = podSandboxID
	if logDir == "" {
		logDir = sandboxConfig.GetLogDirectory()
	}
	if logDir != "" && config.LogPath != "" {
		rec.LogPath = filepath.Join(logDir, config.LogPath)
	}
	if sbCgroups != nil {
		rec.Cgroups = childCgroups(sbCgroups, id)
	}
	dir := r.containerDir(id)
	// Private: the attach socket in it reaches the container's stdin.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("process: create container: %w", err)
	}
	if err := writeJSON(filepath.Join(dir, containerFile), rec); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	r.mu.Lock()
	r.containers[id] = &container{rec: rec, dir: dir}
	r.mu.Unlock()
	return id, nil
}

// containerRecord checks config against what this runtime can do and turns
// it into a record. Whatever it cannot honour it refuses, with a message
// that says why, rather than run the container differently from its spec.
func (r *Runtime) containerRecord(id string, config *runtimeapi.ContainerConfig, sandboxConfig *runtimeapi.PodSandboxConfig) (*containerRecord, error) {
	name := config.Metadata.Name
	refuse := func(format string, args ...any) error {
		return status.Errorf(codes.InvalidArgument, "process: container %q "+format, append([]any{name}, args...)...)
	}
	argv := slices.Concat(config.Command, config.Args)
	if len(argv) == 0 {
		return nil, refuse("has no command; the process runtime cannot run an image's entrypoint")
	}
	rec := &containerRecord{
		ID:          id,
		Name:        name,
		Attempt:     config.Metadata.Attempt,
		Image:       config.GetImage().GetImage(),
		Argv:        argv,
		Env:         containerEnv(config.Envs, sandboxConfig.GetHostname()),
		WorkingDir:  config.WorkingDir,
		Labels:      maps.Clone(config.Labels),
		Annotations: maps.Clone(config.Annotations),
		Stdin:       config.Stdin,
		StdinOnce:   config.StdinOnce,
		Tty:         config.Tty,
		LogMaxSize:  r.opts.LogMaxSize,
		LogMaxFiles: r.opts.LogMaxFiles,
		CreatedAt:   time.Now().UnixNano(),
	}
	if sig := config.StopSignal; sig != runtimeapi.Signal_RUNTIME_DEFAULT {
		rec.StopSignal = sig.String()
	}

	for _, m := range config.Mounts {
		if !filepath.IsAbs(m.ContainerPath) {
			return nil, refuse("mounts a volume at %q, which is not an absolute path", m.ContainerPath)
		}
		if _, err := os.Stat(m.HostPath); err != nil {
			return nil, refuse("mounts %q, which cannot be used: %v", m.HostPath, err)
		}
		rec.Mounts = append(rec.Mounts, mountSpec{HostPath: m.HostPath, ContainerPath: filepath.Clean(m.ContainerPath), Readonly: m.Readonly})
	}
	if len(rec.Mounts) > 0 && !r.root {
		return nil, refuse("mounts volumes, which needs root (each container gets a private mount namespace); the runtime runs as uid %d", os.Geteuid())
	}

	if dir := rec.WorkingDir; dir != "" {
		if !filepath.IsAbs(dir) {
			return nil, refuse("has working directory %q, which is not an absolute path", dir)
		}
		if !underMount(dir, rec.Mounts) {
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				return nil, refuse("has working directory %q, which does not exist on this host (the process runtime has no image filesystem)", dir)
			}
		}
	}

	linux := config.GetLinux()
	res := linux.GetResources()
	rec.Resources = toResources(res)
	if res.GetCpusetCpus() != "" || res.GetCpusetMems() != "" {
		return nil, refuse("asks for a cpuset, which the process runtime does not support")
	}
	if len(res.GetUnified()) > 0 {
		return nil, refuse("asks for cgroup v2 settings, which the process runtime does not support")
	}
	if r.cgroupParents == nil {
		switch {
		case rec.Resources.MemoryLimit > 0:
			return nil, refuse("has a memory limit, which cannot be enforced: %v", r.noCgroups)
		case rec.Resources.CPUQuota > 0:
			return nil, refuse("has a CPU limit, which cannot be enforced: %v", r.noCgroups)
		}
		// CPU shares are a relative weight, not a limit: without cgroups
		// the container runs at the default weight.
		rec.Resources = resources{}
	}
	// Lowering the OOM score needs CAP_SYS_RESOURCE, which the runtime may
	// lack; only raise it.
	rec.OOMScoreAdj = max(res.GetOomScoreAdj(), 0)

	sc := linux.GetSecurityContext()
	if sc.GetRunAsUser() != nil || sc.GetRunAsGroup() != nil || len(sc.GetSupplementalGroups()) > 0 {
		u := &credential{UID: uint32(os.Getuid()), GID: uint32(os.Getgid())}
		if v := sc.GetRunAsUser(); v != nil {
			u.UID = uint32(v.Value)
		}
		if v := sc.GetRunAsGroup(); v != nil {
			u.GID = uint32(v.Value)
		}
		for _, g := range sc.GetSupplementalGroups() {
			u.Groups = append(u.Groups, uint32(g))
		}
		switch {
		case r.root:
			rec.User = u
		case int(u.UID) != os.Getuid() || int(u.GID) != os.Getgid() || len(u.Groups) > 0:
			return nil, refuse("asks to run as user %d group %d, which needs root; the runtime runs as uid %d", u.UID, u.GID, os.Getuid())
		}
	}
	return rec, nil
}

// toResources reads the cgroup limits of a CRI resource spec.
func toResources(res *runtimeapi.LinuxContainerResources) resources {
	return resources{
		MemoryLimit: res.GetMemoryLimitInBytes(),
		CPUPeriod:   res.GetCpuPeriod(),
		CPUQuota:    res.GetCpuQuota(),
		CPUShares:   res.GetCpuShares(),
	}
}

// containerEnv is the command's environment: the config's variables, plus
// PATH and HOSTNAME when the config does not set them (an image would).
func containerEnv(envs []*runtimeapi.KeyValue, hostname string) []string {
	env := make([]string, 0, len(envs)+2)
	set := map[string]bool{}
	for _, kv := range envs {
		env = append(env, kv.Key+"="+kv.Value)
		set[kv.Key] = true
	}
	if !set["PATH"] {
		env = append(env, "PATH="+defaultPath)
	}
	if !set["HOSTNAME"] {
		if hostname == "" {
			hostname, _ = os.Hostname()
		}
		env = append(env, "HOSTNAME="+hostname)
	}
	return env
}

// underMount reports whether path is at or below a mount's container path.
func underMount(path string, mounts []mountSpec) bool {
	for _, m := range mounts {
		if path == m.ContainerPath || strings.HasPrefix(path, strings.TrimSuffix(m.ContainerPath, "/")+"/") {
			return true
		}
	}
	return false
}
