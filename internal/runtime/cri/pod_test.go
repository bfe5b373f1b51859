package cri

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	utilexec "k8s.io/utils/exec"

	"skiff.dev/internal/images"
	"skiff.dev/internal/runtime"
)

// TestContainerdPod runs a pod through containerd's CRI the way the agent
// will: images pulled from skiff's registry, a sandbox on the CNI bridge,
// a busybox container whose output lands in the CRI log, exec, and the
// teardown, after which the network namespace is gone.
func TestContainerdPod(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, l := startTestContainerd(t, ctx)
	rt := c.Runtime()
	if err := c.Err(); err != nil {
		t.Fatalf("Err while running: %v", err)
	}

	// The pause image is not pulled here: containerd pulls its
	// sandbox_image itself, through the same registry hosts, as it will
	// for the agent.
	pull(t, ctx, c.Images(), images.BusyboxRef)

	podDir := filepath.Join(l.dir, "..", "pods", "uid-1")
	netnsBefore := dirNames("/var/run/netns")
	const podUID = "uid-1"
	sandboxConfig := &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: "web", Namespace: "default", Uid: podUID},
		Hostname:     "web-host",
		LogDirectory: podDir,
		Labels: map[string]string{
			runtime.LabelPodName: "web", runtime.LabelPodNamespace: "default", runtime.LabelPodUID: podUID,
		},
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
				NamespaceOptions: &runtimeapi.NamespaceOption{
					Network: runtimeapi.NamespaceMode_POD,
					Pid:     runtimeapi.NamespaceMode_CONTAINER,
					Ipc:     runtimeapi.NamespaceMode_POD,
				},
			},
		},
	}

	began := time.Now()
	podID, err := rt.RunPodSandbox(ctx, sandboxConfig, "")
	if err != nil {
		t.Fatalf("RunPodSandbox: %v", err)
	}
	sandboxTook := time.Since(began)
	st, err := rt.PodSandboxStatus(ctx, podID, true)
	if err != nil {
		t.Fatalf("PodSandboxStatus: %v", err)
	}
	if st.Status.State != runtimeapi.PodSandboxState_SANDBOX_READY {
		t.Errorf("sandbox state = %v, want READY", st.Status.State)
	}
	ip, err := netip.ParseAddr(st.Status.GetNetwork().GetIp())
	if err != nil || !netip.MustParsePrefix(testPodCIDR).Contains(ip) {
		t.Errorf("sandbox IP = %q, want one in %s", st.Status.GetNetwork().GetIp(), testPodCIDR)
	}
	if ps, err := c.Images().ImageStatus(ctx, &runtimeapi.ImageSpec{Image: images.PauseRef}, false); err != nil || ps.Image == nil {
		t.Errorf("ImageStatus of the sandbox image after RunPodSandbox = %v, %v", ps, err)
	}
	netns := sandboxNetNS(t, st.Info)
	if _, err := os.Stat(netns); err != nil {
		t.Errorf("sandbox network namespace: %v", err)
	}

	containerConfig := &runtimeapi.ContainerConfig{
		Metadata: &runtimeapi.ContainerMetadata{Name: "main"},
		Image:    &runtimeapi.ImageSpec{Image: images.BusyboxRef},
		Command:  []string{"sh", "-c", "echo hello; sleep 3600"},
		LogPath:  "main/0.log",
		Labels: map[string]string{
			runtime.LabelPodName: "web", runtime.LabelPodNamespace: "default", runtime.LabelPodUID: podUID,
			runtime.LabelContainerName: "main",
		},
		Linux: &runtimeapi.LinuxContainerConfig{
			SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
				NamespaceOptions: sandboxConfig.Linux.SecurityContext.NamespaceOptions,
			},
		},
	}
	ctrID, err := rt.CreateContainer(ctx, podID, containerConfig, sandboxConfig)
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	if err := rt.StartContainer(ctx, ctrID); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	podTook := time.Since(began)
	t.Logf("pod started in %v (sandbox %v, including the first pull of the pause image; container create+start %v)", podTook.Round(time.Millisecond),
		sandboxTook.Round(time.Millisecond), (podTook - sandboxTook).Round(time.Millisecond))

	cs, err := rt.ContainerStatus(ctx, ctrID, false)
	if err != nil {
		t.Fatalf("ContainerStatus: %v", err)
	}
	if cs.Status.State != runtimeapi.ContainerState_CONTAINER_RUNNING {
		t.Errorf("container state = %v, want RUNNING", cs.Status.State)
	}
	logPath := filepath.Join(podDir, "main", "0.log")
	if cs.Status.LogPath != logPath {
		t.Errorf("container log path = %q, want %q", cs.Status.LogPath, logPath)
	}
	waitFor(t, "hello in "+logPath, func() bool { return logContains(logPath, " stdout F hello\n") })

	list, err := rt.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: map[string]string{runtime.LabelPodUID: podUID}})
	if err != nil || len(list) != 1 || list[0].Id != ctrID {
		t.Errorf("ListContainers by pod UID = %v, %v; want just %s", list, err, ctrID)
	}

	stdout, stderr, err := rt.ExecSync(ctx, ctrID, []string{"hostname"}, 10*time.Second)
	if err != nil || string(stdout) != "web-host\n" {
		t.Errorf("ExecSync hostname = %q, %q, %v; want web-host", stdout, stderr, err)
	}
	_, _, err = rt.ExecSync(ctx, ctrID, []string{"sh", "-c", "exit 3"}, 10*time.Second)
	var exitErr utilexec.CodeExitError
	if !errors.As(err, &exitErr) || exitErr.Code != 3 {
		t.Errorf("ExecSync exiting 3: err = %v, want CodeExitError 3", err)
	}
	stdout, _, err = rt.ExecSync(ctx, ctrID, []string{"ip", "-4", "-o", "addr", "show", "eth0"}, 10*time.Second)
	if err != nil || !strings.Contains(string(stdout), ip.String()+"/") {
		t.Errorf("eth0 in the pod = %q, %v; want address %s", stdout, err, ip)
	}
	ex, err := rt.Exec(ctx, &runtimeapi.ExecRequest{ContainerId: ctrID, Cmd: []string{"true"}, Stdout: true})
	if err != nil || !strings.HasPrefix(ex.GetUrl(), "http://127.0.0.1:") {
		t.Errorf("Exec = %v, %v; want a streaming URL on 127.0.0.1", ex, err)
	}

	if err := rt.StopContainer(ctx, ctrID, 1); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	cs, err = rt.ContainerStatus(ctx, ctrID, false)
	if err != nil || cs.Status.State != runtimeapi.ContainerState_CONTAINER_EXITED {
		t.Errorf("after StopContainer: status %v, %v; want EXITED", cs.GetStatus().GetState(), err)
	}
	if err := rt.RemoveContainer(ctx, ctrID); err != nil {
		t.Fatalf("RemoveContainer: %v", err)
	}
	if _, err := rt.ContainerStatus(ctx, ctrID, false); !isNotFound(err) {
		t.Errorf("ContainerStatus after RemoveContainer: %v, want NotFound", err)
	}
	if err := rt.StopPodSandbox(ctx, podID); err != nil {
		t.Fatalf("StopPodSandbox: %v", err)
	}
	if err := rt.RemovePodSandbox(ctx, podID); err != nil {
		t.Fatalf("RemovePodSandbox: %v", err)
	}
	if _, err := rt.PodSandboxStatus(ctx, podID, false); !isNotFound(err) {
		t.Errorf("PodSandboxStatus after RemovePodSandbox: %v, want NotFound", err)
	}
	if _, err := os.Stat(netns); !os.IsNotExist(err) {
		t.Errorf("network namespace %s still there after RemovePodSandbox (%v)", netns, err)
	}
	if after := dirNames("/var/run/netns"); len(after) > len(netnsBefore) {
		t.Errorf("/var/run/netns gained entries: %v -> %v", netnsBefore, after)
	}
	if _, err := os.Stat(filepath.Join("/var/lib/cni/networks", CNINetwork, ip.String())); !os.IsNotExist(err) {
		t.Errorf("host-local still holds %s after RemovePodSandbox (%v)", ip, err)
	}
	waitFor(t, "the pod's shim to exit", func() bool { return len(shimsOf(l.socket)) == 0 })

	if err := c.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
	if err := c.Wait(); err != nil {
		t.Errorf("Wait after Stop: %v", err)
	}
	if slices.Contains(dirNames(l.dir), "containerd.sock") {
		t.Log("note: containerd left its socket file behind")
	}
}
