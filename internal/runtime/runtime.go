// Package runtime defines the container runtime interface that the node
// agent drives. It is shaped like CRI's RuntimeService and ImageService and
// takes CRI's own message types (k8s.io/cri-api), so the CRI client for
// containerd satisfies it as is, and the process and sim runtimes are small
// implementations of the same contract:
//
//   - a pod is a sandbox (RunPodSandbox … RemovePodSandbox);
//   - a container is created in a sandbox, started, stopped and removed;
//   - ListContainers and ContainerStatus report what exists, so an agent that
//     restarts finds its containers again instead of starting duplicates;
//   - Exec, Attach and PortForward return the URL of a streaming server that
//     the agent proxies to.
//
// Errors follow CRI: a missing object is a gRPC NotFound status
// (status.Error(codes.NotFound, …)), and ExecSync reports a non-zero exit as
// k8s.io/utils/exec.CodeExitError.
package runtime

import (
	"context"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Labels the agent sets on sandboxes and containers, as the kubelet does, so
// that a restarted agent can map what the runtime reports back to pods.
const (
	LabelPodName       = "io.kubernetes.pod.name"
	LabelPodNamespace  = "io.kubernetes.pod.namespace"
	LabelPodUID        = "io.kubernetes.pod.uid"
	LabelContainerName = "io.kubernetes.container.name"
)

// Runtime runs pod sandboxes and their containers. The method set is a subset
// of CRI's RuntimeService with identical signatures.
type Runtime interface {
	Version(ctx context.Context, apiVersion string) (*runtimeapi.VersionResponse, error)

	RunPodSandbox(ctx context.Context, config *runtimeapi.PodSandboxConfig, runtimeHandler string) (string, error)
	StopPodSandbox(ctx context.Context, podSandboxID string) error
	RemovePodSandbox(ctx context.Context, podSandboxID string) error
	PodSandboxStatus(ctx context.Context, podSandboxID string, verbose bool) (*runtimeapi.PodSandboxStatusResponse, error)
	ListPodSandbox(ctx context.Context, filter *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error)

	CreateContainer(ctx context.Context, podSandboxID string, config *runtimeapi.ContainerConfig, sandboxConfig *runtimeapi.PodSandboxConfig) (string, error)
	StartContainer(ctx context.Context, containerID string) error
	// StopContainer sends SIGTERM, waits up to timeout seconds, then SIGKILL.
	StopContainer(ctx context.Context, containerID string, timeout int64) error
	RemoveContainer(ctx context.Context, containerID string) error
	ListContainers(ctx context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error)
	ContainerStatus(ctx context.Context, containerID string, verbose bool) (*runtimeapi.ContainerStatusResponse, error)

	// ExecSync runs cmd in the container and returns its output; a non-zero
	// exit is reported as k8s.io/utils/exec.CodeExitError.
	ExecSync(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (stdout []byte, stderr []byte, err error)
	Exec(ctx context.Context, request *runtimeapi.ExecRequest) (*runtimeapi.ExecResponse, error)
	Attach(ctx context.Context, req *runtimeapi.AttachRequest) (*runtimeapi.AttachResponse, error)
	PortForward(ctx context.Context, request *runtimeapi.PortForwardRequest) (*runtimeapi.PortForwardResponse, error)
}

// Images pulls and inspects images. The method set is a subset of CRI's
// ImageManagerService with identical signatures. Runtimes without images
// (process, sim) do not implement it.
type Images interface {
	ImageStatus(ctx context.Context, image *runtimeapi.ImageSpec, verbose bool) (*runtimeapi.ImageStatusResponse, error)
	PullImage(ctx context.Context, image *runtimeapi.ImageSpec, auth *runtimeapi.AuthConfig, podSandboxConfig *runtimeapi.PodSandboxConfig) (string, error)
}
