package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"skiff.dev/internal/images"
	"skiff.dev/internal/runtime/cri"
)

// TestE2EContainerd runs `skiff up --runtime cri`: skiff runs containerd,
// pods get IPs from CNI in the node's pod CIDR, images come from skiff's
// own registry, and the real kubectl drives it.
func TestE2EContainerd(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("containerd pods need root (CI runs as root)")
	}
	for _, bin := range []string{"containerd", "runc", "/usr/lib/cni/bridge", "busybox"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed (scripts/deps.sh installs it as root)", bin)
		}
	}
	// A private registry with basic auth, reached over plain HTTP through
	// --registries, for imagePullSecrets.
	busybox, err := images.Busybox("")
	if err != nil {
		t.Fatal(err)
	}
	private, err := images.Serve(t.Context(), "127.0.0.1:0", map[string]v1.Image{"private/busybox:1": busybox},
		images.WithBasicAuth("skiff", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { private.Close() })
	registries := filepath.Join(t.TempDir(), "registries.yaml")
	mirror := fmt.Sprintf("mirrors:\n  %q:\n    endpoint: [\"http://%s\"]\n", private.Addr(), private.Addr())
	if err := os.WriteFile(registries, []byte(mirror), 0o600); err != nil {
		t.Fatal(err)
	}
	c := startCluster(t, "--runtime", "cri", "--registries", registries)
	if c.runtime != "cri" {
		t.Fatalf("skiff up --runtime cri reported runtime %q", c.runtime)
	}
	s := c.space(t, "cri")
	s.create("web", `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: registry.skiff.local/busybox:1
        command: [sh, -c, 'hostname > /tmp/index.html; echo serving on $(hostname); exec busybox httpd -f -v -p 8080 -h /tmp']
        readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
`)
	s.run("rollout", "status", "deployment/web", "--timeout=90s")
	cidr := s.k.run("get", "node", c.node, "-o", "jsonpath={.spec.podCIDR}")
	_, podNet, err := net.ParseCIDR(cidr)
	if err != nil {
		t.Fatalf("node %s has pod CIDR %q: %v", c.node, cidr, err)
	}
	names := strings.Fields(s.get("pods", "{.items[*].metadata.name}"))
	ips := strings.Fields(s.get("pods", "{.items[*].status.podIP}"))
	if len(names) != 3 || len(ips) != 3 {
		t.Fatalf("pods %v with IPs %v, want 3 of each", names, ips)
	}
	seen := map[string]bool{}
	for i, ip := range ips {
		if seen[ip] || !podNet.Contains(net.ParseIP(ip)) {
			t.Errorf("pod %s has IP %s: want a distinct IP inside %s", names[i], ip, cidr)
		}
		seen[ip] = true
		// The host reaches every pod by its IP.
		if body := httpGet(t, "http://"+net.JoinHostPort(ip, "8080")+"/"); body != names[i] {
			t.Errorf("GET %s from the host: %q, want the pod's hostname %q", ip, body, names[i])
		}
	}
	if h := strings.TrimSpace(s.run("exec", names[0], "--", "hostname")); h != names[0] {
		t.Errorf("kubectl exec hostname: %q, want %q", h, names[0])
	}
	// One pod reaches another by IP.
	if got := strings.TrimSpace(s.run("exec", names[0], "--", "wget", "-qO-", "http://"+net.JoinHostPort(ips[1], "8080")+"/")); got != names[1] {
		t.Errorf("pod %s fetching %s: %q, want %q", names[0], ips[1], got, names[1])
	}
	contains(t, "kubectl logs", s.run("logs", names[0]), "serving on "+names[0])
	local, _ := s.portForward("pod/"+names[1], 8080)
	if body := httpGet(t, "http://127.0.0.1:"+local+"/"); body != names[1] {
		t.Errorf("GET through kubectl port-forward to %s: %q", names[1], body)
	}

	// Killing the container's process from the host restarts it.
	pid := containerPID(t, c, names[2])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill the container of %s (pid %d): %v", names[2], pid, err)
	}
	s.eventually([]string{"1"}, "get", "pod", names[2], "-o", "jsonpath={.status.containerStatuses[0].restartCount}")

	// Restarting skiff (the agent and its containerd) leaves healthy
	// containers running: the same containers, no new restarts.
	const ids = `{range .items[*]}{.metadata.name}={.status.containerStatuses[0].containerID}/{.status.containerStatuses[0].restartCount} {end}`
	s.wait("pod/"+names[2], "condition=Ready")
	before := s.get("pods", ids)
	c.restart(t)
	s.run("rollout", "status", "deployment/web", "--timeout=60s")
	if after := s.get("pods", ids); after != before {
		t.Errorf("containers changed across a restart of skiff:\nbefore %s\nafter  %s", before, after)
	}

	// A missing image: ErrImagePull, then ImagePullBackOff.
	s.create("missing", `apiVersion: v1
kind: Pod
metadata: {name: missing}
spec:
  containers: [{name: c, image: registry.skiff.local/no-such-image:1}]
`)
	s.eventually([]string{"ImagePullBackOff"}, "get", "pod", "missing")
	contains(t, "kubectl describe pod missing", s.run("describe", "pod", "missing"), "ErrImagePull", "Failed to pull image")

	// imagePullSecrets: with the secret the private image pulls; without
	// it the pull fails and says why.
	s.run("create", "secret", "docker-registry", "regcred", "--docker-server="+private.Addr(),
		"--docker-username=skiff", "--docker-password=s3cret")
	image := private.Addr() + "/private/busybox:1"
	s.create("private", `apiVersion: v1
kind: Pod
metadata: {name: with-secret}
spec:
  imagePullSecrets: [{name: regcred}]
  containers: [{name: c, image: `+image+`, command: [sleep, "3600"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: without-secret}
spec:
  # Always: the image is on the node once with-secret pulled it, and
  # IfNotPresent would use it without credentials, as upstream does.
  containers: [{name: c, image: `+image+`, imagePullPolicy: Always, command: [sleep, "3600"]}]
`)
	s.wait("pod/with-secret", "condition=Ready")
	s.eventually([]string{"ErrImagePull", "401 Unauthorized"}, "describe", "pod", "without-secret")

	// A container over its memory limit is OOMKilled.
	s.create("hog", `apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: registry.skiff.local/busybox:1
    command: [sh, -c, 'head -c 200m /dev/zero | tail']
    resources: {limits: {memory: 32Mi}}
`)
	s.eventually([]string{"OOMKilled"}, "get", "pod", "hog", "-o", "jsonpath={.status.containerStatuses[0].state.terminated.reason}")

	// Deleting the pods leaves no sandbox behind.
	s.run("delete", "deployment", "web", "--cascade=foreground", "--timeout=60s")
	s.run("delete", "pods", "--all", "--timeout=60s")
	rt := criRuntime(t, c)
	deadline := time.Now().Add(60 * time.Second)
	for {
		boxes, err := rt.ListPodSandbox(t.Context(), &runtimeapi.PodSandboxFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(boxes) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pod sandboxes remain 60s after every pod was deleted", len(boxes))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(body))
}

// criRuntime connects to the containerd that `skiff up` runs.
func criRuntime(t *testing.T, c *cluster) interface {
	ListPodSandbox(context.Context, *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error)
	ListContainers(context.Context, *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error)
	ContainerStatus(context.Context, string, bool) (*runtimeapi.ContainerStatusResponse, error)
} {
	t.Helper()
	rt, _, err := cri.Connect(t.Context(), filepath.Join(c.dataDir, "agent", "containerd", "containerd.sock"))
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// containerPID is the host pid of a pod's running container, from
// containerd's verbose status.
func containerPID(t *testing.T, c *cluster, pod string) int {
	t.Helper()
	rt := criRuntime(t, c)
	list, err := rt.ListContainers(t.Context(), &runtimeapi.ContainerFilter{
		State:         &runtimeapi.ContainerStateValue{State: runtimeapi.ContainerState_CONTAINER_RUNNING},
		LabelSelector: map[string]string{"io.kubernetes.pod.name": pod}})
	if err != nil || len(list) != 1 {
		t.Fatalf("running containers of %s: %v (err %v)", pod, list, err)
	}
	st, err := rt.ContainerStatus(t.Context(), list[0].Id, true)
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Pid int `json:"pid"`
	}
	if err := json.Unmarshal([]byte(st.GetInfo()["info"]), &info); err != nil || info.Pid == 0 {
		t.Fatalf("no pid in the status of %s's container: %v", pod, err)
	}
	return info.Pid
}
