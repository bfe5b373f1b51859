package test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/agent"
	"skiff.dev/internal/runtime"
	"skiff.dev/internal/runtime/process"
	"skiff.dev/internal/runtime/sim"
	"skiff.dev/testenv"
)

// The process runtime runs its supervisor by re-executing the binary it is
// in: here the test binary, which must dispatch that helper mode before
// running tests.
func TestMain(m *testing.M) {
	if process.HelperMode() == process.ModeSupervisor {
		process.SupervisorMain()
	}
	os.Exit(m.Run())
}

const agentNode = "node-1"

// agentRig is a control plane with one agent on the process runtime.
type agentRig struct {
	env     *testenv.Env
	cs      *kubernetes.Clientset
	dataDir string
	rtDir   string
	rt      *process.Runtime
	agent   *agent.Agent
	logs    *lockedBuffer
	stop    func()
}

// startAgentRig starts a control plane and an agent with short timings.
func startAgentRig(t *testing.T) *agentRig {
	t.Helper()
	n := &agentRig{env: testenv.Start(t), dataDir: t.TempDir(), rtDir: t.TempDir(), logs: &lockedBuffer{}}
	n.cs = clientset(t, n.env)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("agent log (tail):\n%s", tail(n.logs.String(), 120))
		}
	})
	n.startAgent(t)
	t.Cleanup(func() { n.stopAgent(); n.removeAll(t) })
	return n
}

// startAgent opens the runtime on the node's runtime directory and runs an
// agent on the node's data directory.
func (n *agentRig) startAgent(t *testing.T) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(n.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rt, err := process.New(process.Options{Dir: n.rtDir, HostIP: "127.0.0.1", CgroupParent: "skiff-agent-test", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	n.rt = rt
	a, err := agent.New(agent.Options{
		Config: n.env.Config, NodeName: agentNode, DataDir: n.dataDir, Runtime: rt, KubeletPort: 10250, Log: log,
		Addresses:          []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "127.0.0.1"}, {Type: corev1.NodeHostName, Address: agentNode}},
		LeaseRenewInterval: time.Second, NodeStatusUpdateFrequency: time.Second, BackOffBase: time.Second,
		BackOffMax: 2 * time.Second, RelistPeriod: 300 * time.Millisecond, StaticPodPollPeriod: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	n.agent = a
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	n.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
	}
}

func (n *agentRig) stopAgent() {
	if n.stop != nil {
		n.stop()
		n.stop = nil
	}
}

// removeAll stops and removes whatever the runtime still runs, so that no
// process outlives the test.
func (n *agentRig) removeAll(t *testing.T) {
	ctx := context.Background()
	cs, _ := n.rt.ListContainers(ctx, nil)
	for _, c := range cs {
		_ = n.rt.StopContainer(ctx, c.Id, 0)
		_ = n.rt.RemoveContainer(ctx, c.Id)
	}
	sbs, _ := n.rt.ListPodSandbox(ctx, nil)
	for _, sb := range sbs {
		_ = n.rt.StopPodSandbox(ctx, sb.Id)
		_ = n.rt.RemovePodSandbox(ctx, sb.Id)
	}
}

// agentShPod is a pod bound to the agent's node whose container runs script
// with sh (the process runtime needs a command).
func agentShPod(name, script string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{NodeName: agentNode, TerminationGracePeriodSeconds: ptr.To[int64](5),
			Containers: []corev1.Container{{Name: "app", Image: "busybox", Command: []string{"sh", "-c", script}}}}}
}

func (n *agentRig) create(t *testing.T, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	created, err := n.cs.CoreV1().Pods(pod.Namespace).Create(context.Background(), pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return created
}

// waitPod polls a pod until cond holds (generous timeout: the machines are
// shared) and returns it.
func (n *agentRig) waitPod(t *testing.T, name, what string, cond func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	var last *corev1.Pod
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		p, err := n.cs.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
		if err == nil {
			last = p
			if cond(p) {
				return p
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("pod %s: timed out waiting for %s; last status: %+v", name, what, last.Status)
	return nil
}

func podPhaseIs(phase corev1.PodPhase) func(*corev1.Pod) bool {
	return func(p *corev1.Pod) bool { return p.Status.Phase == phase }
}

// events lists the events about a pod.
func (n *agentRig) events(t *testing.T, pod string) []corev1.Event {
	t.Helper()
	list, err := n.cs.CoreV1().Events("default").List(context.Background(), metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("involvedObject.name", pod).String()})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func (n *agentRig) waitEvent(t *testing.T, pod, reason, message string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("event %s %q about %s", reason, message, pod), func() bool {
		for _, e := range n.events(t, pod) {
			if e.Reason == reason && strings.Contains(e.Message, message) {
				return true
			}
		}
		return false
	})
}

// TestAgent runs one agent on the process runtime and checks, scenario by
// scenario, what a kubelet user sees.
func TestAgent(t *testing.T) {
	n := startAgentRig(t)
	t.Run("NodeAndLease", func(t *testing.T) { t.Parallel(); agentTestNodeAndLease(t, n) })
	t.Run("NeverSucceeds", func(t *testing.T) { t.Parallel(); agentTestExit(t, n, "ok", 0, corev1.PodSucceeded, "Completed") })
	t.Run("NeverFails", func(t *testing.T) { t.Parallel(); agentTestExit(t, n, "bad", 1, corev1.PodFailed, "Error") })
	t.Run("CrashLoop", func(t *testing.T) { t.Parallel(); agentTestCrashLoop(t, n) })
	t.Run("InitOrder", func(t *testing.T) { t.Parallel(); agentTestInitOrder(t, n) })
	t.Run("GracefulDelete", func(t *testing.T) { t.Parallel(); agentTestGracefulDelete(t, n) })
	t.Run("EnvFromConfigMap", func(t *testing.T) { t.Parallel(); agentTestEnv(t, n) })
	t.Run("StaticPod", func(t *testing.T) { t.Parallel(); agentTestStaticPod(t, n) })
	t.Run("Volumes", func(t *testing.T) { t.Parallel(); agentTestVolumes(t, n) })
}

func agentTestNodeAndLease(t *testing.T, n *agentRig) {
	ctx := context.Background()
	var node *corev1.Node
	waitFor(t, "the node to be Ready", func() bool {
		var err error
		node, err = n.cs.CoreV1().Nodes().Get(ctx, agentNode, metav1.GetOptions{})
		if err != nil {
			return false
		}
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return true
			}
		}
		return false
	})
	want := map[corev1.NodeConditionType]string{
		corev1.NodeReady: "KubeletReady", corev1.NodeMemoryPressure: "KubeletHasSufficientMemory",
		corev1.NodeDiskPressure: "KubeletHasNoDiskPressure", corev1.NodePIDPressure: "KubeletHasSufficientPID"}
	for _, c := range node.Status.Conditions {
		if want[c.Type] != c.Reason || c.LastHeartbeatTime.IsZero() || c.LastTransitionTime.IsZero() {
			t.Errorf("condition %s: %s %s %q", c.Type, c.Status, c.Reason, c.Message)
		}
		if c.Type == corev1.NodeReady && c.Message != "kubelet is posting ready status" {
			t.Errorf("Ready message %q", c.Message)
		}
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourcePods, corev1.ResourceEphemeralStorage} {
		c, a := node.Status.Capacity[r], node.Status.Allocatable[r]
		if c.IsZero() || a.IsZero() || a.Cmp(c) > 0 {
			t.Errorf("%s: capacity %s allocatable %s", r, c.String(), a.String())
		}
	}
	info := node.Status.NodeInfo
	if info.KubeletVersion == "" || info.ContainerRuntimeVersion != "skiff-process://0.1.0" || info.OperatingSystem != "linux" ||
		info.KernelVersion == "" || info.BootID == "" {
		t.Errorf("nodeInfo %+v", info)
	}
	if node.Status.DaemonEndpoints.KubeletEndpoint.Port != 10250 || len(node.Status.Addresses) != 2 {
		t.Errorf("endpoints %+v addresses %+v", node.Status.DaemonEndpoints, node.Status.Addresses)
	}
	if node.Labels[corev1.LabelHostname] != agentNode || node.Labels[corev1.LabelOSStable] != "linux" {
		t.Errorf("labels %v", node.Labels)
	}

	leases := n.cs.CoordinationV1().Leases("kube-node-lease")
	var first time.Time
	waitFor(t, "the node lease", func() bool {
		l, err := leases.Get(ctx, agentNode, metav1.GetOptions{})
		if err != nil || l.Spec.RenewTime == nil {
			return false
		}
		if ptr.Deref(l.Spec.HolderIdentity, "") != agentNode || ptr.Deref(l.Spec.LeaseDurationSeconds, 0) != 40 {
			t.Fatalf("lease spec %+v", l.Spec)
		}
		first = l.Spec.RenewTime.Time
		return true
	})
	waitFor(t, "the lease to be renewed", func() bool {
		l, err := leases.Get(ctx, agentNode, metav1.GetOptions{})
		return err == nil && l.Spec.RenewTime.After(first)
	})
}

// agentTestExit: a pod that never restarts ends with its container's exit code.
func agentTestExit(t *testing.T, n *agentRig, name string, code int, phase corev1.PodPhase, reason string) {
	pod := agentShPod(name, fmt.Sprintf("echo bye; exit %d", code))
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	n.create(t, pod)
	running := false
	p := n.waitPod(t, name, string(phase), func(p *corev1.Pod) bool {
		running = running || p.Status.Phase == corev1.PodRunning
		return p.Status.Phase == phase
	})
	st := p.Status.ContainerStatuses
	if len(st) != 1 || st[0].State.Terminated == nil {
		t.Fatalf("container statuses %+v", st)
	}
	term := st[0].State.Terminated
	if term.ExitCode != int32(code) || term.Reason != reason || term.StartedAt.IsZero() || term.FinishedAt.IsZero() ||
		!strings.HasPrefix(st[0].ContainerID, "skiff-process://") || st[0].RestartCount != 0 {
		t.Errorf("terminated %+v, id %s", term, st[0].ContainerID)
	}
	if p.Status.PodIP != "127.0.0.1" || p.Status.HostIP != "127.0.0.1" || p.Status.StartTime == nil || p.Status.QOSClass != corev1.PodQOSBestEffort {
		t.Errorf("status %+v", p.Status)
	}
	n.waitEvent(t, name, "Started", "Started container app")
	n.waitEvent(t, name, "Created", "Created container: app")

	// What the agent's HTTPS API asks for logs.
	id, logPath, err := n.agent.Container("default", name, "app", false)
	if err != nil || "skiff-process://"+id != st[0].ContainerID {
		t.Fatalf("Container: %s %v, want %s", id, err, st[0].ContainerID)
	}
	if b, err := os.ReadFile(logPath); err != nil || !strings.Contains(string(b), " stdout F bye") ||
		filepath.Base(logPath) != "0.log" || filepath.Base(filepath.Dir(logPath)) != "app" {
		t.Errorf("log %s: %q %v", logPath, b, err)
	}
	if _, _, err := n.agent.Container("default", name, "app", true); !apierrors.IsBadRequest(err) ||
		err.Error() != fmt.Sprintf("previous terminated container \"app\" in pod %q not found", name) {
		t.Errorf("previous: %v", err)
	}
	if _, _, err := n.agent.Container("default", "nosuch", "app", false); !apierrors.IsNotFound(err) {
		t.Errorf("unknown pod: %v", err)
	}
	if _, _, err := n.agent.Container("default", name, "nosuch", false); !apierrors.IsNotFound(err) {
		t.Errorf("unknown container: %v", err)
	}
	if sb, err := n.agent.Sandbox("default", name); err == nil {
		t.Errorf("a finished pod has a ready sandbox %s", sb)
	}
}

// agentTestCrashLoop: restartPolicy Always restarts a failing container with a
// growing restart count, waiting in CrashLoopBackOff between restarts.
func agentTestCrashLoop(t *testing.T, n *agentRig) {
	n.create(t, agentShPod("crash", "exit 3"))
	var sawBackOff bool
	p := n.waitPod(t, "crash", "two restarts and a back-off", func(p *corev1.Pod) bool {
		for _, st := range p.Status.ContainerStatuses {
			if w := st.State.Waiting; w != nil && w.Reason == "CrashLoopBackOff" {
				sawBackOff = strings.Contains(w.Message, "restarting failed container=app pod=crash_default(")
			}
			return sawBackOff && st.RestartCount >= 2
		}
		return false
	})
	st := p.Status.ContainerStatuses[0]
	if last := st.LastTerminationState.Terminated; last == nil || last.ExitCode != 3 || last.Reason != "Error" {
		t.Errorf("last state %+v", st.LastTerminationState)
	}
	if p.Status.Phase != corev1.PodRunning {
		t.Errorf("phase %s, want Running", p.Status.Phase)
	}
	n.waitEvent(t, "crash", "BackOff", "Back-off restarting failed container app in pod crash_default(")
}

// agentTestInitOrder: init containers run one after the other, before the
// container.
func agentTestInitOrder(t *testing.T, n *agentRig) {
	file := filepath.Join(t.TempDir(), "order")
	pod := agentShPod("init", fmt.Sprintf("echo app >> %s; exec sleep 1000", file))
	pod.Spec.InitContainers = []corev1.Container{
		{Name: "first", Image: "busybox", Command: []string{"sh", "-c", fmt.Sprintf("sleep 0.3; echo first >> %s", file)}},
		{Name: "second", Image: "busybox", Command: []string{"sh", "-c", fmt.Sprintf("echo second >> %s", file)}},
	}
	n.create(t, pod)
	p := n.waitPod(t, "init", "Running and ready", func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodRunning && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].Ready
	})
	b, err := os.ReadFile(file)
	if err != nil || string(b) != "first\nsecond\napp\n" {
		t.Errorf("order file %q (%v)", b, err)
	}
	for _, st := range p.Status.InitContainerStatuses {
		if st.State.Terminated == nil || st.State.Terminated.Reason != "Completed" || !st.Ready {
			t.Errorf("init container %s: %+v", st.Name, st.State)
		}
	}
	for _, c := range []corev1.PodConditionType{corev1.PodInitialized, corev1.PodReady, corev1.ContainersReady, corev1.PodReadyToStartContainers} {
		if !podHasCondition(p, c, corev1.ConditionTrue) {
			t.Errorf("condition %s not True: %+v", c, p.Status.Conditions)
		}
	}
}

func podHasCondition(p *corev1.Pod, t corev1.PodConditionType, s corev1.ConditionStatus) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c.Status == s
		}
	}
	return false
}

// agentTestGracefulDelete: deleting a pod sends its container SIGTERM, and the
// agent deletes the object once the container has stopped.
func agentTestGracefulDelete(t *testing.T, n *agentRig) {
	file := filepath.Join(t.TempDir(), "term")
	n.create(t, agentShPod("doomed", fmt.Sprintf(`trap 'echo TERM > %s; exit 0' TERM; while true; do sleep 0.1; done`, file)))
	n.waitPod(t, "doomed", "Running", podPhaseIs(corev1.PodRunning))
	ctx := context.Background()
	if err := n.cs.CoreV1().Pods("default").Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pod object to be gone", func() bool {
		_, err := n.cs.CoreV1().Pods("default").Get(ctx, "doomed", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	if b, err := os.ReadFile(file); err != nil || string(b) != "TERM\n" {
		t.Errorf("the container did not see SIGTERM: %q %v", b, err)
	}
	n.waitEvent(t, "doomed", "Killing", "Stopping container app")
}

// agentTestEnv: an env var from a ConfigMap key reaches the container; a missing
// key is CreateContainerConfigError, with the reason shown by kubectl
// describe.
func agentTestEnv(t *testing.T, n *agentRig) {
	ctx := context.Background()
	if _, err := n.cs.CoreV1().ConfigMaps("default").Create(ctx, configMap("cfg", map[string]string{"greeting": "hello"}),
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A Service in the namespace gives pods its link variables.
	if _, err := n.cs.CoreV1().Services("default").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "backend"},
		Spec:       corev1.ServiceSpec{ClusterIP: "10.43.0.77", Ports: []corev1.ServicePort{{Port: 8080}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "env")
	ref := func(key string) []corev1.EnvVar {
		return []corev1.EnvVar{{Name: "GREETING", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: key}}}}
	}
	good := agentShPod("env", fmt.Sprintf("echo $GREETING $BACKEND_SERVICE_HOST:$BACKEND_SERVICE_PORT > %s; exec sleep 1000", file))
	good.Spec.Containers[0].Env = ref("greeting")
	n.create(t, good)
	bad := agentShPod("noenv", "exec sleep 1000")
	bad.Spec.Containers[0].Env = ref("missing")
	n.create(t, bad)

	n.waitPod(t, "env", "Running", podPhaseIs(corev1.PodRunning))
	waitFor(t, "the env file", func() bool {
		b, err := os.ReadFile(file)
		return err == nil && string(b) == "hello 10.43.0.77:8080\n"
	})
	n.waitPod(t, "noenv", "CreateContainerConfigError", func(p *corev1.Pod) bool {
		for _, st := range p.Status.ContainerStatuses {
			if w := st.State.Waiting; w != nil && w.Reason == "CreateContainerConfigError" {
				return strings.Contains(w.Message, "missing")
			}
		}
		return false
	})
	n.waitEvent(t, "noenv", "Failed", "Error: ")
	k := newKubectl(t, n.env)
	out := k.run("describe", "pod", "noenv")
	contains(t, "kubectl describe pod noenv", out, "CreateContainerConfigError", "couldn't find key missing in ConfigMap default/cfg")
}

// agentTestVolumes: a configMap volume reaches the container; a volume
// whose ConfigMap is missing is a FailedMount event, and the pod waits in
// ContainerCreating.
func agentTestVolumes(t *testing.T, n *agentRig) {
	ctx := context.Background()
	if _, err := n.cs.CoreV1().ConfigMaps("default").Create(ctx, configMap("vol", map[string]string{"key": "value"}),
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mnt, out := filepath.Join(dir, "mnt"), filepath.Join(dir, "out")
	withVolume := func(name, cm string) *corev1.Pod {
		p := agentShPod(name, fmt.Sprintf("cat %s/key > %s; exec sleep 1000", mnt, out))
		p.Spec.Volumes = []corev1.Volume{{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: cm}}}}}
		p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "cfg", MountPath: mnt}}
		return p
	}
	n.create(t, withVolume("vol", "vol"))
	n.create(t, withVolume("novol", "nope"))
	n.waitPod(t, "vol", "Running", podPhaseIs(corev1.PodRunning))
	waitFor(t, "the volume's file in the container", func() bool {
		b, err := os.ReadFile(out)
		return err == nil && string(b) == "value"
	})
	n.waitEvent(t, "novol", "FailedMount", `MountVolume.SetUp failed for volume "cfg"`)
	p := n.waitPod(t, "novol", "ContainerCreating", func(p *corev1.Pod) bool {
		st := p.Status.ContainerStatuses
		return len(st) == 1 && st[0].State.Waiting != nil && st[0].State.Waiting.Reason == "ContainerCreating"
	})
	if p.Status.Phase != corev1.PodPending {
		t.Errorf("phase %s, want Pending", p.Status.Phase)
	}
}

// agentTestStaticPod: a manifest in the static pod directory runs as a pod and
// gets a mirror pod; a deleted mirror comes back; removing the manifest
// stops the pod and deletes the mirror.
func agentTestStaticPod(t *testing.T, n *agentRig) {
	dir := filepath.Join(n.dataDir, "manifests")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := filepath.Join(dir, "web.yaml")
	err := os.WriteFile(manifest, []byte(`apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: app
    image: busybox
    command: ["sleep", "1000"]
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	name := "web-" + agentNode
	mirror := n.waitPod(t, name, "the mirror pod Running", podPhaseIs(corev1.PodRunning))
	if mirror.Annotations["kubernetes.io/config.mirror"] == "" || mirror.Annotations["kubernetes.io/config.source"] != "file" ||
		mirror.Annotations["kubernetes.io/config.mirror"] != mirror.Annotations["kubernetes.io/config.hash"] {
		t.Errorf("mirror annotations %v", mirror.Annotations)
	}
	if len(mirror.OwnerReferences) != 1 || mirror.OwnerReferences[0].Kind != "Node" || mirror.OwnerReferences[0].Name != agentNode {
		t.Errorf("mirror owners %+v", mirror.OwnerReferences)
	}
	ctx := context.Background()
	if err := n.cs.CoreV1().Pods("default").Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	again := n.waitPod(t, name, "a new mirror pod", func(p *corev1.Pod) bool {
		return p.UID != mirror.UID && p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning
	})
	if id := again.Status.ContainerStatuses[0].ContainerID; id != mirror.Status.ContainerStatuses[0].ContainerID {
		t.Errorf("the static pod restarted with its mirror: %s then %s", mirror.Status.ContainerStatuses[0].ContainerID, id)
	}
	if err := os.Remove(manifest); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the mirror pod to be deleted", func() bool {
		_, err := n.cs.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	waitFor(t, "the static pod's container to be gone", func() bool {
		cs, err := n.rt.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: map[string]string{runtime.LabelPodName: name}})
		return err == nil && len(cs) == 0
	})
}

// TestAgentRestart: a new agent on the same data and runtime directories
// adopts the running containers (same container, no restart) and removes
// those of pods deleted while no agent ran.
func TestAgentRestart(t *testing.T) {
	n := startAgentRig(t)
	ctx := context.Background()
	n.create(t, agentShPod("steady", "exec sleep 1000"))
	n.create(t, agentShPod("gone", "exec sleep 1000"))
	before := n.waitPod(t, "steady", "Running", podPhaseIs(corev1.PodRunning))
	n.waitPod(t, "gone", "Running", podPhaseIs(corev1.PodRunning))
	id := before.Status.ContainerStatuses[0].ContainerID

	n.stopAgent()
	if err := n.cs.CoreV1().Pods("default").Delete(ctx, "gone", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		t.Fatal(err)
	}
	n.startAgent(t)
	// A new pod running shows the new agent is at work.
	n.create(t, agentShPod("after", "exec sleep 1000"))
	n.waitPod(t, "after", "Running", podPhaseIs(corev1.PodRunning))

	waitFor(t, "the deleted pod's container to be removed", func() bool {
		cs, err := n.rt.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: map[string]string{runtime.LabelPodName: "gone"}})
		return err == nil && len(cs) == 0
	})
	after, err := n.cs.CoreV1().Pods("default").Get(ctx, "steady", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := after.Status.ContainerStatuses[0]
	if st.ContainerID != id || st.RestartCount != 0 || st.State.Running == nil || after.Status.Phase != corev1.PodRunning {
		t.Errorf("after the restart: %s restarts %d state %+v, want %s running, no restart", st.ContainerID, st.RestartCount, st.State, id)
	}
	cs, err := n.rt.ListContainers(ctx, &runtimeapi.ContainerFilter{LabelSelector: map[string]string{runtime.LabelPodUID: string(after.UID)}})
	if err != nil || len(cs) != 1 {
		t.Errorf("the runtime has %d containers for the pod (%v), want 1", len(cs), err)
	}
}

// TestAgentHollowNodes runs several agents in one process, each on its own
// sim runtime (hollow nodes), and checks that each runs its own pods and
// leaves the others' alone.
func TestAgentHollowNodes(t *testing.T) {
	env := testenv.Start(t)
	cs := clientset(t, env)
	const nodes, podsPerNode = 5, 20
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	rts := make([]*sim.Runtime, nodes)
	for i := range nodes {
		rt, err := sim.New(sim.Options{PodCIDR: fmt.Sprintf("10.244.%d.0/24", i)})
		if err != nil {
			t.Fatal(err)
		}
		rts[i] = rt
		a, err := agent.New(agent.Options{Config: env.Config, NodeName: fmt.Sprintf("hollow-%d", i), DataDir: t.TempDir(),
			Runtime: rt, Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"),
				corev1.ResourceMemory: resource.MustParse("16Gi"), corev1.ResourcePods: resource.MustParse("110")},
			Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("10.0.0.%d", i+1)}},
			Log:       slog.New(slog.DiscardHandler), RelistPeriod: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = a.Run(ctx) }()
	}
	start := time.Now()
	for i := range nodes {
		for j := range podsPerNode {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p-%d-%d", i, j), Namespace: "default"},
				Spec: corev1.PodSpec{NodeName: fmt.Sprintf("hollow-%d", i), Containers: []corev1.Container{{Name: "c", Image: "pause"}}}}
			if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, "every hollow pod Running", func() bool {
		list, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false
		}
		running := 0
		for _, p := range list.Items {
			if p.Status.Phase == corev1.PodRunning && strings.HasPrefix(p.Status.PodIP, "10.244.") {
				running++
			}
		}
		return running == nodes*podsPerNode
	})
	t.Logf("%d pods on %d hollow nodes Running %v after creation", nodes*podsPerNode, nodes, time.Since(start).Round(time.Millisecond))
	for i, rt := range rts {
		list, err := rt.ListContainers(ctx, nil)
		if err != nil || len(list) != podsPerNode {
			t.Errorf("hollow-%d runs %d containers (%v), want %d", i, len(list), err, podsPerNode)
		}
		for _, c := range list {
			if !strings.HasPrefix(c.Labels[runtime.LabelPodName], fmt.Sprintf("p-%d-", i)) {
				t.Errorf("hollow-%d runs %s", i, c.Labels[runtime.LabelPodName])
			}
		}
	}
}
