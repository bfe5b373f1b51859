package agent

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"path/filepath"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"skiff.dev/internal/agent/envvars"
	"skiff.dev/internal/runtime"
)

// Annotations the agent puts on containers, as the kubelet does, so that a
// restarted agent knows what it created.
const (
	annotationContainerHash            = "io.kubernetes.container.hash"
	annotationRestartCount             = "io.kubernetes.container.restartCount"
	annotationTerminationMessagePath   = "io.kubernetes.container.terminationMessagePath"
	annotationTerminationMessagePolicy = "io.kubernetes.container.terminationMessagePolicy"
	annotationPodGracePeriod           = "io.kubernetes.pod.terminationGracePeriod"
)

// podLogDir is the directory of a pod's container logs, as the kubelet
// lays it out: <logs>/<namespace>_<name>_<uid>.
func podLogDir(root string, pod *corev1.Pod) string {
	return filepath.Join(root, pod.Namespace+"_"+pod.Name+"_"+string(pod.UID))
}

// containerLogPath is a container instance's log file, relative to the
// pod's log directory: <container>/<restartCount>.log.
func containerLogPath(name string, attempt int32) string {
	return filepath.Join(name, strconv.Itoa(int(attempt))+".log")
}

// podLabels are the labels of a pod's sandbox: the pod's own plus the ones
// that map it back to the pod.
func podLabels(pod *corev1.Pod) map[string]string {
	l := make(map[string]string, len(pod.Labels)+3)
	for k, v := range pod.Labels {
		l[k] = v
	}
	l[runtime.LabelPodName] = pod.Name
	l[runtime.LabelPodNamespace] = pod.Namespace
	l[runtime.LabelPodUID] = string(pod.UID)
	return l
}

// sandboxConfig describes the pod's sandbox to the runtime.
func sandboxConfig(pod *corev1.Pod, attempt uint32, logDir string) *runtimeapi.PodSandboxConfig {
	hostname := pod.Spec.Hostname
	if hostname == "" {
		hostname = pod.Name
	}
	if len(hostname) > 63 {
		hostname = hostname[:63]
	}
	cfg := &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{Name: pod.Name, Namespace: pod.Namespace,
			Uid: string(pod.UID), Attempt: attempt},
		Hostname:     hostname,
		LogDirectory: logDir,
		Labels:       podLabels(pod),
		Annotations:  copyMap(pod.Annotations),
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: namespaceOptions(pod)},
		},
	}
	for _, c := range allContainers(pod) {
		for _, p := range c.Ports {
			if p.HostPort <= 0 {
				continue
			}
			proto := runtimeapi.Protocol_TCP
			switch p.Protocol {
			case corev1.ProtocolUDP:
				proto = runtimeapi.Protocol_UDP
			case corev1.ProtocolSCTP:
				proto = runtimeapi.Protocol_SCTP
			}
			cfg.PortMappings = append(cfg.PortMappings, &runtimeapi.PortMapping{Protocol: proto,
				ContainerPort: p.ContainerPort, HostPort: p.HostPort, HostIp: p.HostIP})
		}
	}
	if sc := pod.Spec.SecurityContext; sc != nil {
		for _, s := range sc.Sysctls {
			if cfg.Linux.Sysctls == nil {
				cfg.Linux.Sysctls = map[string]string{}
			}
			cfg.Linux.Sysctls[s.Name] = s.Value
		}
		cfg.Linux.SecurityContext.RunAsUser = int64Value(sc.RunAsUser)
		cfg.Linux.SecurityContext.RunAsGroup = int64Value(sc.RunAsGroup)
		cfg.Linux.SecurityContext.SupplementalGroups = sc.SupplementalGroups
	}
	return cfg
}

// namespaceOptions picks host or pod namespaces from the pod spec.
func namespaceOptions(pod *corev1.Pod) *runtimeapi.NamespaceOption {
	o := &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_POD, Pid: runtimeapi.NamespaceMode_CONTAINER,
		Ipc: runtimeapi.NamespaceMode_POD}
	if pod.Spec.HostNetwork {
		o.Network = runtimeapi.NamespaceMode_NODE
	}
	if pod.Spec.HostIPC {
		o.Ipc = runtimeapi.NamespaceMode_NODE
	}
	switch {
	case pod.Spec.HostPID:
		o.Pid = runtimeapi.NamespaceMode_NODE
	case pod.Spec.ShareProcessNamespace != nil && *pod.Spec.ShareProcessNamespace:
		o.Pid = runtimeapi.NamespaceMode_POD
	}
	return o
}

// containerSpec is what containerConfig needs beyond the pod and the
// container.
type containerSpec struct {
	Attempt        int32
	Image          string // the resolved image reference
	Env            []*runtimeapi.KeyValue
	Mounts         []*runtimeapi.Mount
	NodeMemory     int64 // bytes, for the OOM score
	TerminationLog string
}

// containerConfig describes one container instance to the runtime.
func containerConfig(pod *corev1.Pod, c *corev1.Container, spec containerSpec) *runtimeapi.ContainerConfig {
	env := map[string]string{}
	for _, kv := range spec.Env {
		env[kv.Key] = kv.Value
	}
	image := spec.Image
	if image == "" {
		image = c.Image
	}
	cfg := &runtimeapi.ContainerConfig{
		Metadata:   &runtimeapi.ContainerMetadata{Name: c.Name, Attempt: uint32(spec.Attempt)},
		Image:      &runtimeapi.ImageSpec{Image: image, UserSpecifiedImage: c.Image},
		Command:    expandAll(c.Command, env),
		Args:       expandAll(c.Args, env),
		WorkingDir: c.WorkingDir,
		Envs:       spec.Env,
		Mounts:     spec.Mounts,
		Labels: map[string]string{
			runtime.LabelPodName: pod.Name, runtime.LabelPodNamespace: pod.Namespace,
			runtime.LabelPodUID: string(pod.UID), runtime.LabelContainerName: c.Name,
		},
		Annotations: map[string]string{
			annotationContainerHash:            containerHash(c),
			annotationRestartCount:             strconv.Itoa(int(spec.Attempt)),
			annotationTerminationMessagePath:   c.TerminationMessagePath,
			annotationTerminationMessagePolicy: string(c.TerminationMessagePolicy),
		},
		LogPath:   containerLogPath(c.Name, spec.Attempt),
		Stdin:     c.Stdin,
		StdinOnce: c.StdinOnce,
		Tty:       c.TTY,
		Linux:     linuxConfig(pod, c, spec.NodeMemory),
	}
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		cfg.Annotations[annotationPodGracePeriod] = strconv.FormatInt(*pod.Spec.TerminationGracePeriodSeconds, 10)
	}
	if spec.TerminationLog != "" && c.TerminationMessagePath != "" {
		cfg.Mounts = append(cfg.Mounts, &runtimeapi.Mount{HostPath: spec.TerminationLog, ContainerPath: c.TerminationMessagePath})
	}
	return cfg
}

// linuxConfig carries the container's resources and security settings.
func linuxConfig(pod *corev1.Pod, c *corev1.Container, nodeMemory int64) *runtimeapi.LinuxContainerConfig {
	res := &runtimeapi.LinuxContainerResources{}
	cpuReq, cpuLim := c.Resources.Requests.Cpu().MilliValue(), c.Resources.Limits.Cpu().MilliValue()
	if cpuReq == 0 && cpuLim != 0 {
		cpuReq = cpuLim
	}
	res.CpuShares = cpuShares(cpuReq)
	if cpuLim > 0 {
		res.CpuPeriod = 100000
		res.CpuQuota = max(cpuLim*100000/1000, 1000)
	}
	res.MemoryLimitInBytes = c.Resources.Limits.Memory().Value()
	res.OomScoreAdj = oomScoreAdj(pod, c, nodeMemory)
	lc := &runtimeapi.LinuxContainerConfig{Resources: res,
		SecurityContext: &runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: namespaceOptions(pod)}}
	sec := lc.SecurityContext
	if psc := pod.Spec.SecurityContext; psc != nil {
		sec.RunAsUser = int64Value(psc.RunAsUser)
		sec.RunAsGroup = int64Value(psc.RunAsGroup)
		sec.SupplementalGroups = psc.SupplementalGroups
	}
	if sc := c.SecurityContext; sc != nil {
		if sc.RunAsUser != nil {
			sec.RunAsUser = int64Value(sc.RunAsUser)
		}
		if sc.RunAsGroup != nil {
			sec.RunAsGroup = int64Value(sc.RunAsGroup)
		}
		sec.Privileged = sc.Privileged != nil && *sc.Privileged
		sec.ReadonlyRootfs = sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem
		sec.NoNewPrivs = sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation
		if caps := sc.Capabilities; caps != nil {
			sec.Capabilities = &runtimeapi.Capability{}
			for _, a := range caps.Add {
				sec.Capabilities.AddCapabilities = append(sec.Capabilities.AddCapabilities, string(a))
			}
			for _, d := range caps.Drop {
				sec.Capabilities.DropCapabilities = append(sec.Capabilities.DropCapabilities, string(d))
			}
		}
	}
	return lc
}

// cpuShares converts a cpu request to cgroup shares (2 at least).
func cpuShares(milli int64) int64 {
	return max(milli*1024/1000, 2)
}

// containerHash fingerprints the parts of a container that, when changed,
// need a new container (everything but resources, which resize in place).
func containerHash(c *corev1.Container) string {
	cc := c.DeepCopy()
	cc.Resources = corev1.ResourceRequirements{}
	cc.ResizePolicy = nil
	b, _ := json.Marshal(cc)
	h := fnv.New32a()
	h.Write(b)
	return strconv.FormatUint(uint64(h.Sum32()), 16)
}

// expandAll expands $(VAR) references in a command or its args with the
// container's environment.
func expandAll(in []string, env map[string]string) []string {
	if in == nil {
		return nil
	}
	lookup := func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = envvars.Expand(s, lookup)
	}
	return out
}

// allContainers lists the init containers, then the containers.
func allContainers(pod *corev1.Pod) []*corev1.Container {
	out := make([]*corev1.Container, 0, len(pod.Spec.InitContainers)+len(pod.Spec.Containers))
	for i := range pod.Spec.InitContainers {
		out = append(out, &pod.Spec.InitContainers[i])
	}
	for i := range pod.Spec.Containers {
		out = append(out, &pod.Spec.Containers[i])
	}
	return out
}

// findContainer finds a container or init container by name.
func findContainer(pod *corev1.Pod, name string) *corev1.Container {
	for _, c := range allContainers(pod) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// isInit reports whether name is one of the pod's init containers.
func isInit(pod *corev1.Pod, name string) bool {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return true
		}
	}
	return false
}

// containerFieldPath is the fieldPath events use for a container.
func containerFieldPath(pod *corev1.Pod, name string) string {
	if isInit(pod, name) {
		return fmt.Sprintf("spec.initContainers{%s}", name)
	}
	return fmt.Sprintf("spec.containers{%s}", name)
}

func int64Value(p *int64) *runtimeapi.Int64Value {
	if p == nil {
		return nil
	}
	return &runtimeapi.Int64Value{Value: *p}
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
