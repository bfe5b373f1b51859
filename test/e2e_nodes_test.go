package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestE2ENodesJoin: on `skiff up`, an agent with a wrong join token is
// refused with a message that says where the right one is, and `skiff sim`
// adds hollow nodes that run pods.
func TestE2ENodesJoin(t *testing.T) {
	c := startCluster(t)
	bin := skiffBinary(t)
	token, err := os.ReadFile(filepath.Join(c.dataDir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	good := strings.TrimSpace(string(token))
	bad := good[:strings.LastIndex(good, ":")+1] + "not-the-secret"
	out, err := exec.Command(bin, "agent", "--server", c.url, "--token", bad, "--node-name", "intruder",
		"--data-dir", t.TempDir(), "--kubelet-port", "0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "the join token is not valid for this cluster") ||
		!strings.Contains(string(out), "DATA_DIR/token") {
		t.Errorf("skiff agent with a wrong token: err %v, output:\n%s", err, out)
	}

	sim := exec.Command(bin, "sim", "--nodes", "3", "--server", c.url, "--token-file", filepath.Join(c.dataDir, "token"),
		"--data-dir", t.TempDir(), "--node-cpu", "2", "--node-memory", "4Gi")
	sim.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	simOut := &lockedBuffer{}
	sim.Stdout, sim.Stderr = simOut, simOut
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = sim.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- sim.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = sim.Process.Kill()
			t.Errorf("skiff sim did not stop on SIGTERM:\n%s", tail(simOut.String(), 20))
		}
	})
	s := c.space(t, "sim")
	for _, n := range []string{"hollow-0", "hollow-1", "hollow-2"} {
		s.k.run("wait", "--for=condition=Ready", "node/"+n, "--timeout=60s")
	}
	if cpu := s.k.run("get", "node", "hollow-1", "-o", "jsonpath={.status.capacity.cpu}"); cpu != "2" {
		t.Errorf("hollow-1 reports %q cpus, want the 2 given by --node-cpu", cpu)
	}
	s.create("on-hollow", `apiVersion: v1
kind: Pod
metadata: {name: on-hollow}
spec:
  nodeSelector: {kubernetes.io/hostname: hollow-1}
  containers: [{name: c, image: none, command: [sleep, "3600"]}]
`)
	s.wait("pod/on-hollow", "condition=Ready")
	if node := s.get("pod/on-hollow", "{.spec.nodeName}"); node != "hollow-1" {
		t.Errorf("pod ran on %q, want hollow-1", node)
	}
	s.run("delete", "pod", "on-hollow", "--timeout=60s")
}
