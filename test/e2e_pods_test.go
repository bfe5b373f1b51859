package test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestE2E starts `skiff up` once and checks, with the real kubectl, that
// pods run on its node: the scenarios share the cluster, each in its own
// namespace, and run side by side; the one that taints the node runs last,
// alone.
func TestE2E(t *testing.T) {
	c := startCluster(t)
	runAtOnce(t, c, []scenario{
		{"PodRunsToCompletion", e2ePodRunsToCompletion},
		{"Exec", e2eExec},
		{"InitContainersInOrder", e2eInitContainersInOrder},
		{"DeleteSendsSIGTERM", e2eDeleteSendsSIGTERM},
		{"PortForward", e2ePortForward},
		{"CrashLoopBackOff", e2eCrashLoopBackOff},
		{"LivenessRestarts", e2eLivenessRestarts},
		{"ReadinessFlips", e2eReadinessFlips},
		{"InsufficientCPU", e2eInsufficientCPU},
		{"NodeSelector", e2eNodeSelector},
		{"BadInput", e2eBadInput},
	})
	t.Run("Taints", func(t *testing.T) { e2eTaints(t, c) })
}

// scenario is one end-to-end check on a shared cluster.
type scenario struct {
	name string
	run  func(*testing.T, *cluster)
}

// runAtOnce runs the scenarios on c together. They mostly wait, so they
// all run at once: t.Run from one goroutine each, as t.Parallel would
// queue them behind -parallel (GOMAXPROCS, 2 on these machines).
func runAtOnce(t *testing.T, c *cluster, scenarios []scenario) {
	var wg sync.WaitGroup
	for _, sc := range scenarios {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run(sc.name, func(t *testing.T) { sc.run(t, c) })
		}()
	}
	wg.Wait()
}

// e2ePodRunsToCompletion: a pod running `sh -c` goes Pending → Running →
// Succeeded, and kubectl logs shows what it printed.
func e2ePodRunsToCompletion(t *testing.T, c *cluster) {
	s := c.space(t, "complete")
	phases := s.watch("pods", "-o", `jsonpath={.metadata.name} {.status.phase}{"\n"}`)
	s.run("run", "hello", "--image=busybox", "--restart=Never", "--command", "--", "sh", "-c", "echo hello; sleep 3; echo bye")

	var seen []string
	deadline := time.Now().Add(90 * time.Second)
	for len(seen) == 0 || seen[len(seen)-1] != "Succeeded" {
		phase := strings.TrimPrefix(s.next(phases, deadline, "phase Succeeded of pod hello (seen "+strings.Join(seen, " → ")+")"), "hello ")
		if len(seen) == 0 || seen[len(seen)-1] != phase {
			seen = append(seen, phase)
		}
	}
	if got := strings.Join(seen, " → "); got != "Pending → Running → Succeeded" {
		t.Errorf("phases of pod hello: %s, want Pending → Running → Succeeded", got)
	}
	if got := s.run("logs", "hello"); got != "hello\nbye\n" {
		t.Errorf("kubectl logs hello = %q, want %q", got, "hello\nbye\n")
	}
	contains(t, "get pod", s.run("get", "pod", "hello"), "Completed")
	// -f on a finished container prints everything and returns.
	if got := s.run("logs", "-f", "hello"); got != "hello\nbye\n" {
		t.Errorf("kubectl logs -f hello = %q", got)
	}
	if got := s.run("logs", "hello", "--since=1h", "-c", "hello"); got != "hello\nbye\n" {
		t.Errorf("kubectl logs --since=1h -c hello = %q", got)
	}
	stamped := strings.Split(strings.TrimSpace(s.run("logs", "hello", "--timestamps")), "\n")
	for i, want := range []string{"hello", "bye"} {
		stamp, text, _ := strings.Cut(stamped[min(i, len(stamped)-1)], " ")
		if _, err := time.Parse(time.RFC3339Nano, stamp); err != nil || text != want || len(stamped) != 2 {
			t.Errorf("kubectl logs --timestamps: line %d is %q, want an RFC 3339 time and %q", i, stamped, want)
		}
	}
}

// e2eExec: kubectl exec runs a command in the pod, passes stdin and
// output, and exits with the command's exit code.
func e2eExec(t *testing.T, c *cluster) {
	s := c.space(t, "exec")
	s.run("run", "shell", "--image=busybox", "--restart=Never", "--command", "--", "sleep", "3600")
	s.wait("pod/shell", "condition=Ready")

	out, code := s.code("", "exec", "shell", "--", "sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3")
	if code != 3 {
		t.Errorf("kubectl exec … exit 3: exit code %d, want 3\n%s", code, out)
	}
	contains(t, "exec exit 3", out, "to-stdout", "to-stderr", "command terminated with exit code 3")
	if out, code := s.code("", "exec", "shell", "--", "sh", "-c", "exit 0"); code != 0 {
		t.Errorf("kubectl exec … exit 0: exit code %d\n%s", code, out)
	}
	if out, code := s.code("ping over stdin\n", "exec", "-i", "shell", "--", "cat"); code != 0 || out != "ping over stdin\n" {
		t.Errorf("kubectl exec -i shell -- cat: exit code %d, output %q", code, out)
	}

	// kubectl cp is tar over exec, both ways.
	dir := t.TempDir()
	src, back := filepath.Join(dir, "in.txt"), filepath.Join(dir, "back.txt")
	if err := os.WriteFile(src, []byte("copied both ways\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inPod := filepath.Join(dir, "in-pod.txt")
	s.run("cp", src, "shell:"+inPod)
	if out := s.run("exec", "shell", "--", "cat", inPod); out != "copied both ways\n" {
		t.Errorf("after kubectl cp into the pod, the file holds %q", out)
	}
	s.run("cp", "shell:"+inPod, back)
	if got, err := os.ReadFile(back); err != nil || string(got) != "copied both ways\n" {
		t.Errorf("kubectl cp out of the pod: %q, %v", got, err)
	}
}

// e2eInitContainersInOrder: init containers run one after the other, to
// completion, before the main container starts.
func e2eInitContainersInOrder(t *testing.T, c *cluster) {
	s := c.space(t, "init")
	s.create("init", `apiVersion: v1
kind: Pod
metadata: {name: init}
spec:
  restartPolicy: Never
  initContainers:
  - {name: first, image: busybox, command: [sh, -c, 'sleep 1; echo first | tee -a $DIR/order']}
  - {name: second, image: busybox, command: [sh, -c, 'echo second | tee -a $DIR/order']}
  containers:
  - {name: main, image: busybox, command: [sh, -c, 'echo main >> $DIR/order; cat $DIR/order']}
`)
	s.wait("pod/init", "jsonpath={.status.phase}=Succeeded")
	if got := s.run("logs", "init", "-c", "main"); got != "first\nsecond\nmain\n" {
		t.Errorf("main container read %q, want first, second, main in that order", got)
	}
	if got := s.run("logs", "init", "-c", "first"); got != "first\n" {
		t.Errorf("kubectl logs -c first = %q", got)
	}
	if got := s.get("pod/init", `{range .status.initContainerStatuses[*]}{.name}={.state.terminated.reason} {end}`); got != "first=Completed second=Completed " {
		t.Errorf("init container states: %q", got)
	}
}

// e2eDeleteSendsSIGTERM: kubectl delete pod sends the container SIGTERM,
// which it can trap, and the pod is gone within its grace period.
func e2eDeleteSendsSIGTERM(t *testing.T, c *cluster) {
	s := c.space(t, "sigterm")
	s.create("graceful", `apiVersion: v1
kind: Pod
metadata: {name: graceful}
spec:
  terminationGracePeriodSeconds: 30
  containers:
  - name: main
    image: busybox
    command: [sh, -c, 'trap "echo got SIGTERM > $DIR/term; exit 0" TERM; echo trap set; while true; do sleep 1; done']
`)
	s.wait("pod/graceful", "condition=Ready")
	s.eventually([]string{"trap set"}, "logs", "graceful")
	// kubectl delete waits for the pod to be gone; --timeout is the grace period.
	contains(t, "delete", s.run("delete", "pod", "graceful", "--timeout=30s"), `pod "graceful" deleted`)
	contains(t, "get after delete", s.fail("get", "pod", "graceful"), `pods "graceful" not found`)
	if got := string(mustReadFile(t, s.dir+"/term")); got != "got SIGTERM\n" {
		t.Errorf("the container's TERM trap wrote %q, want %q", got, "got SIGTERM\n")
	}
}
