package test

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// controlPlane is a `skiff server` child process.
type controlPlane struct {
	bin        string
	dataDir    string
	kubeconfig string
	url        string
	args       []string
	cmd        *exec.Cmd
	out        *lockedBuffer
	exited     chan struct{}
}

var readyLine = regexp.MustCompile(`API server ready.* url=(\S+)`)

// startControlPlane runs `skiff server` with extra flags in a fresh data
// directory on a free port.
func startControlPlane(t *testing.T, extra ...string) *controlPlane {
	t.Helper()
	if testing.Short() {
		t.Skip("builds skiff and runs a cluster")
	}
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not on PATH: the end-to-end tests drive the real kubectl (CI installs it)")
	}
	cp := &controlPlane{bin: skiffBinary(t), dataDir: t.TempDir(), out: &lockedBuffer{}}
	cp.kubeconfig = filepath.Join(cp.dataDir, "admin.kubeconfig")
	cp.args = append([]string{"server", "--data-dir", cp.dataDir}, extra...)
	cp.start(t, "0")
	t.Cleanup(func() {
		cp.stop(syscall.SIGTERM)
		if t.Failed() {
			t.Logf("skiff server output (tail):\n%s", tail(cp.out.String(), 80))
		}
	})
	return cp
}

// start runs the server on port and waits until its API is ready,
// failing t otherwise.
func (cp *controlPlane) start(t *testing.T, port string) {
	t.Helper()
	cp.cmd = exec.Command(cp.bin, append(cp.args, "--api-port", port)...)
	cp.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	cp.cmd.Stdout = cp.out
	stderr, err := cp.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cp.exited = make(chan struct{})
	ready := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(stderr)
		for lines.Scan() {
			fmt.Fprintln(cp.out, lines.Text())
			if m := readyLine.FindStringSubmatch(lines.Text()); m != nil {
				select {
				case ready <- m[1]:
				default:
				}
			}
		}
		_ = cp.cmd.Wait()
		close(cp.exited)
	}()
	select {
	case cp.url = <-ready:
	case <-cp.exited:
		t.Fatalf("skiff server exited before it was ready:\n%s", cp.out)
	case <-time.After(60 * time.Second):
		t.Fatalf("skiff server was not ready within 60s:\n%s", cp.out)
	}
}

// stop signals the server and waits for it.
func (cp *controlPlane) stop(sig syscall.Signal) {
	if cp.cmd == nil || cp.cmd.Process == nil {
		return
	}
	_ = cp.cmd.Process.Signal(sig)
	select {
	case <-cp.exited:
	case <-time.After(30 * time.Second):
		_ = cp.cmd.Process.Kill()
		<-cp.exited
	}
}

// restart kills the server with SIGKILL and starts it again on the same
// data directory and port.
func (cp *controlPlane) restart(t *testing.T) {
	t.Helper()
	cp.stop(syscall.SIGKILL)
	cp.start(t, cp.url[strings.LastIndex(cp.url, ":")+1:])
}

// simNodes runs `skiff sim` with n hollow nodes named prefix0… for the
// test t; kill stops it with SIGKILL, as a machine that vanishes.
func (cp *controlPlane) simNodes(t *testing.T, prefix string, n int) (kill func()) {
	t.Helper()
	cmd := exec.Command(cp.bin, "sim", "--nodes", fmt.Sprint(n), "--node-prefix", prefix, "--server", cp.url,
		"--token-file", filepath.Join(cp.dataDir, "token"), "--data-dir", t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	var once sync.Once
	kill = func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			<-done
		})
	}
	t.Cleanup(kill)
	cs := clientFor(t, cp.kubeconfig)
	for i := range n {
		name := fmt.Sprintf("%s%d", prefix, i)
		pollUntil(t, 60*time.Second, "node "+name+" Ready", func() (bool, string) {
			node, err := cs.CoreV1().Nodes().Get(t.Context(), name, metav1.GetOptions{})
			if err != nil {
				return false, err.Error() + "\n" + tail(out.String(), 20)
			}
			for _, c := range node.Status.Conditions {
				if c.Type == corev1.NodeReady {
					return c.Status == corev1.ConditionTrue, string(c.Status)
				}
			}
			return false, "no Ready condition"
		})
	}
	return kill
}

// TestE2ENodeFailure: with shortened grace periods, the pods of an agent
// that stops are recreated on the other node; kubectl drain honours a
// PodDisruptionBudget; killing the server in the middle of a scale-up
// never leaves more pods than asked for.
func TestE2ENodeFailure(t *testing.T) {
	// Agents renew their Lease every 10 s: the grace period must be well
	// above that.
	cp := startControlPlane(t, "--node-monitor-grace-period=20s", "--node-monitor-period=1s",
		"--default-not-ready-toleration-seconds=2", "--default-unreachable-toleration-seconds=2")
	t.Run("AgentStops", func(t *testing.T) { e2eAgentStops(t, cp) })
	t.Run("DrainHonoursPDB", func(t *testing.T) { e2eDrainHonoursPDB(t, cp) })
	t.Run("ServerKilledDuringScaleUp", func(t *testing.T) { e2eServerKilledDuringScaleUp(t, cp) })
}

// space creates namespace ns for the test t and a directory for its
// manifests.
func (cp *controlPlane) space(t *testing.T, k *kubectl, ns string) *space {
	t.Helper()
	k.run("create", "namespace", ns)
	return &space{t: t, k: k, ns: ns, dir: t.TempDir()}
}

// podsByNode counts the Ready pods, not being deleted, per node.
func podsByNode(ctx context.Context, cs kubernetes.Interface, ns, selector string) (map[string]int, error) {
	list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil && podReady(&p) {
			out[p.Spec.NodeName]++
		}
	}
	return out, nil
}

func pollUntil(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s; last: %s", what, timeout, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func e2eAgentStops(t *testing.T, cp *controlPlane) {
	cp.simNodes(t, "stay-", 1)
	killGone := cp.simNodes(t, "gone-", 1)
	k := &kubectl{t: t, kubeconfig: cp.kubeconfig}
	cs := clientFor(t, cp.kubeconfig)
	s := cp.space(t, k, "failover")
	s.create("spread", `apiVersion: apps/v1
kind: Deployment
metadata: {name: spread}
spec:
  replicas: 4
  selector: {matchLabels: {app: spread}}
  template:
    metadata: {labels: {app: spread}}
    spec:
      containers:
      - {name: c, image: none, command: [sleep, "3600"], resources: {requests: {cpu: 500m}}}
`)
	s.run("rollout", "status", "deployment/spread", "--timeout=60s")
	ctx := t.Context()
	before, err := podsByNode(ctx, cs, "failover", "app=spread")
	if err != nil {
		t.Fatal(err)
	}
	if before["gone-0"] == 0 || before["stay-0"] == 0 {
		t.Fatalf("want the 4 pods spread over both nodes, got %v", before)
	}
	killGone()
	pollUntil(t, 60*time.Second, "gone-0 tainted unreachable", func() (bool, string) {
		n, err := cs.CoreV1().Nodes().Get(ctx, "gone-0", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		ready := ""
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				ready = string(c.Status)
			}
		}
		for _, taint := range n.Spec.Taints {
			if taint.Key == corev1.TaintNodeUnreachable && taint.Effect == corev1.TaintEffectNoExecute {
				return ready == "Unknown", "tainted, Ready=" + ready
			}
		}
		return false, fmt.Sprintf("Ready=%s taints=%v", ready, n.Spec.Taints)
	})
	pollUntil(t, 60*time.Second, "all 4 pods Ready on stay-0", func() (bool, string) {
		now, err := podsByNode(ctx, cs, "failover", "app=spread")
		if err != nil {
			return false, err.Error()
		}
		return now["stay-0"] == 4, fmt.Sprint(now)
	})
	// The pods on the vanished node stay Terminating, as upstream's do,
	// until the node is deleted; remove the node and those pods.
	k.run("delete", "node", "gone-0")
	k.run("-n", "failover", "delete", "pods", "--field-selector", "spec.nodeName=gone-0", "--force", "--grace-period=0")
	k.run("delete", "namespace", "failover", "--timeout=60s")
}

func e2eDrainHonoursPDB(t *testing.T, cp *controlPlane) {
	cp.simNodes(t, "drain-", 1)
	k := &kubectl{t: t, kubeconfig: cp.kubeconfig}
	cs := clientFor(t, cp.kubeconfig)
	s := cp.space(t, k, "drain")
	s.create("guarded", `apiVersion: apps/v1
kind: Deployment
metadata: {name: guarded}
spec:
  replicas: 2
  selector: {matchLabels: {app: guarded}}
  template:
    metadata: {labels: {app: guarded}}
    spec:
      nodeSelector: {kubernetes.io/hostname: drain-0}
      containers: [{name: c, image: none, command: [sleep, "3600"]}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: guarded}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: guarded}}
`)
	s.run("rollout", "status", "deployment/guarded", "--timeout=60s")
	s.eventually([]string{"1"}, "get", "pdb", "guarded", "-o", "jsonpath={.status.disruptionsAllowed}")
	original := strings.Fields(s.get("pods", "{.items[*].metadata.name}"))
	out, err := k.try("drain", "drain-0", "--ignore-daemonsets", "--timeout=15s")
	if err == nil {
		t.Fatalf("kubectl drain succeeded although the budget allows one eviction of two pods:\n%s", out)
	}
	contains(t, "kubectl drain", out, "disruption budget")
	ctx := t.Context()
	pods, err := cs.CoreV1().Pods("drain").List(ctx, metav1.ListOptions{LabelSelector: "app=guarded"})
	if err != nil {
		t.Fatal(err)
	}
	left := 0
	for _, p := range pods.Items {
		for _, o := range original {
			if p.Name == o && p.DeletionTimestamp == nil {
				left++
			}
		}
	}
	if left != 1 {
		t.Errorf("after the drain %d of the original pods %v remain, want exactly 1", left, original)
	}
	if u := k.run("get", "node", "drain-0", "-o", "jsonpath={.spec.unschedulable}"); u != "true" {
		t.Errorf("drain did not cordon drain-0: unschedulable=%q", u)
	}
	k.run("uncordon", "drain-0")
	s.run("rollout", "status", "deployment/guarded", "--timeout=60s")
	k.run("delete", "namespace", "drain", "--timeout=60s")
}

func e2eServerKilledDuringScaleUp(t *testing.T, cp *controlPlane) {
	cp.simNodes(t, "many-", 1)
	k := &kubectl{t: t, kubeconfig: cp.kubeconfig}
	s := cp.space(t, k, "fifty")
	s.create("fifty", `apiVersion: apps/v1
kind: Deployment
metadata: {name: fifty}
spec:
  replicas: 1
  selector: {matchLabels: {app: fifty}}
  template:
    metadata: {labels: {app: fifty}}
    spec:
      nodeSelector: {kubernetes.io/hostname: many-0}
      containers: [{name: c, image: none, command: [sleep, "3600"]}]
`)
	s.run("rollout", "status", "deployment/fifty", "--timeout=60s")
	s.run("scale", "deployment/fifty", "--replicas=50")
	cp.restart(t)
	cs := clientFor(t, cp.kubeconfig)
	ctx := t.Context()
	most := 0
	pollUntil(t, 120*time.Second, "50 Ready pods after the restart", func() (bool, string) {
		list, err := cs.CoreV1().Pods("fifty").List(ctx, metav1.ListOptions{LabelSelector: "app=fifty"})
		if err != nil {
			return false, err.Error()
		}
		active, ready := 0, 0
		for _, p := range list.Items {
			if p.DeletionTimestamp == nil {
				active++
				if podReady(&p) {
					ready++
				}
			}
		}
		most = max(most, active)
		return ready == 50, fmt.Sprintf("%d pods, %d Ready", active, ready)
	})
	time.Sleep(2 * time.Second) // would a second manager over-create, it has had time
	list, err := cs.CoreV1().Pods("fifty").List(ctx, metav1.ListOptions{LabelSelector: "app=fifty"})
	if err != nil {
		t.Fatal(err)
	}
	if most > 50 || len(list.Items) != 50 {
		t.Errorf("after killing the server during the scale-up: at most %d pods seen, %d now; want never more than 50", most, len(list.Items))
	}
}
