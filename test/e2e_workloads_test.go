package test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// TestE2EWorkloads runs the control loops' acceptance scenarios on a real
// `skiff up` with the real kubectl: Deployments (scale, rolling update,
// history, undo), self-healing, StatefulSet ordering, Jobs and cascading
// deletion.
func TestE2EWorkloads(t *testing.T) {
	c := startCluster(t)
	runAtOnce(t, c, []scenario{
		{"DeploymentRollout", e2eDeploymentRollout},
		{"SelfHealing", e2eSelfHealing},
		{"StatefulSetOrder", e2eStatefulSetOrder},
		{"Jobs", e2eJobs},
		{"CascadingDelete", e2eCascadingDelete},
	})
}

// clientFor is a clientset on a kubeconfig.
func clientFor(t *testing.T, kubeconfig string) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	return kubernetes.NewForConfigOrDie(cfg)
}

// readyWatcher watches the pods with a label selector and records the
// fewest Ready pods (not being deleted) it saw while it ran, counting from
// when the watch's replay of the existing pods reached start Ready pods.
type readyWatcher struct {
	mu    sync.Mutex
	ready map[string]bool
	min   int
	seen  bool
	start int
	stop  context.CancelFunc
	done  chan struct{}
}

func watchReady(t *testing.T, cs kubernetes.Interface, ns, selector string, start int) *readyWatcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := cs.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	rw := &readyWatcher{ready: map[string]bool{}, min: -1, start: start, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(rw.done)
		defer w.Stop()
		for ev := range w.ResultChan() {
			pod, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			rw.mu.Lock()
			rw.ready[pod.Name] = ev.Type != watch.Deleted && pod.DeletionTimestamp == nil && podReady(pod)
			n := 0
			for _, r := range rw.ready {
				if r {
					n++
				}
			}
			if rw.seen || n >= rw.start {
				rw.seen = true
				if rw.min < 0 || n < rw.min {
					rw.min = n
				}
			}
			rw.mu.Unlock()
		}
	}()
	return rw
}

// fewest stops the watcher and returns the fewest Ready pods it saw.
func (rw *readyWatcher) fewest() int {
	rw.stop()
	<-rw.done
	rw.mu.Lock()
	defer rw.mu.Unlock()
	return rw.min
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

const webDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 0, maxSurge: 1}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: none
        command: [sleep, "3600"]
        env: [{name: VERSION, value: "1"}]
        readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
`

// e2eDeploymentRollout: scale 3 → 10 → 2; a template change rolls out
// with maxUnavailable=0 and never fewer than 2 Ready pods; history lists
// the revisions; undo restores the previous template.
func e2eDeploymentRollout(t *testing.T, c *cluster) {
	s := c.space(t, "deploy")
	s.create("web", webDeployment)
	s.run("rollout", "status", "deployment/web", "--timeout=60s")
	if got := s.get("deployment/web", "{.status.readyReplicas}"); got != "3" {
		t.Fatalf("readyReplicas %q after the rollout, want 3", got)
	}
	s.run("scale", "deployment/web", "--replicas=10")
	s.run("rollout", "status", "deployment/web", "--timeout=60s")
	if got := s.get("deployment/web", "{.status.availableReplicas}"); got != "10" {
		t.Fatalf("availableReplicas %q after scaling to 10", got)
	}
	s.run("scale", "deployment/web", "--replicas=2")
	s.eventually([]string{"2/2"}, "get", "deployment/web", "--no-headers")
	s.eventually([]string{"2"}, "get", "deployment/web", "-o", "jsonpath={.status.replicas}")

	rw := watchReady(t, clientFor(t, c.kubeconfig), s.ns, "app=web", 2)
	s.run("set", "env", "deployment/web", "VERSION=2")
	s.run("rollout", "status", "deployment/web", "--timeout=90s")
	if fewest := rw.fewest(); fewest < 2 {
		t.Errorf("during the rolling update with maxUnavailable=0 only %d pods were Ready, want at least 2", fewest)
	}
	history := s.run("rollout", "history", "deployment/web")
	contains(t, "rollout history", history, "REVISION", "1 ", "2 ")
	if rs := s.run("get", "rs", "-l", "app=web", "--no-headers"); strings.Count(rs, "\n") != 2 {
		t.Errorf("want 2 ReplicaSets after one template change:\n%s", rs)
	}
	s.run("rollout", "undo", "deployment/web")
	s.run("rollout", "status", "deployment/web", "--timeout=90s")
	if v := s.get("deployment/web", "{.spec.template.spec.containers[0].env[0].value}"); v != "1" {
		t.Errorf("after undo VERSION is %q, want the first revision's 1", v)
	}
	if rev := s.get("deployment/web", `{.metadata.annotations.deployment\.kubernetes\.io/revision}`); rev != "3" {
		t.Errorf("after undo the revision is %q, want 3", rev)
	}
	s.run("rollout", "undo", "deployment/web", "--to-revision=2")
	s.run("rollout", "status", "deployment/web", "--timeout=90s")
	if v := s.get("deployment/web", "{.spec.template.spec.containers[0].env[0].value}"); v != "2" {
		t.Errorf("after undo --to-revision=2 VERSION is %q, want 2", v)
	}

	// Paused, a template change rolls nothing out; resumed, it does.
	s.run("rollout", "pause", "deployment/web")
	before := s.get("rs", "{.items[*].metadata.name}")
	s.run("set", "env", "deployment/web", "VERSION=3")
	time.Sleep(2 * time.Second)
	if now := s.get("rs", "{.items[*].metadata.name}"); now != before {
		t.Errorf("a paused Deployment rolled out: ReplicaSets %q, were %q", now, before)
	}
	s.run("rollout", "resume", "deployment/web")
	s.run("rollout", "status", "deployment/web", "--timeout=90s")
	if now := strings.Fields(s.get("rs", "{.items[*].metadata.name}")); len(now) != 3 {
		t.Errorf("after resuming want a third ReplicaSet, got %v", now)
	}
	s.run("rollout", "restart", "deployment/web")
	s.run("rollout", "status", "deployment/web", "--timeout=90s")
	if now := strings.Fields(s.get("rs", "{.items[*].metadata.name}")); len(now) != 4 {
		t.Errorf("after rollout restart want a fourth ReplicaSet, got %v", now)
	}
	if at := s.get("deployment/web", `{.spec.template.metadata.annotations.kubectl\.kubernetes\.io/restartedAt}`); at == "" {
		t.Errorf("rollout restart left no restartedAt annotation on the template")
	}
}

// e2eSelfHealing: a deleted pod is replaced; a killed container process
// is restarted.
func e2eSelfHealing(t *testing.T, c *cluster) {
	s := c.space(t, "heal")
	s.create("heal", `apiVersion: apps/v1
kind: Deployment
metadata: {name: heal}
spec:
  replicas: 2
  selector: {matchLabels: {app: heal}}
  template:
    metadata: {labels: {app: heal}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: none
        command: [sh, -c, 'echo $$$$ > $DIR/$POD_NAME.pid; exec sleep 3600'] # $$ is an escaped $ in a command
        env: [{name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
`)
	s.run("rollout", "status", "deployment/heal", "--timeout=60s")
	names := strings.Fields(s.get("pods", "{.items[*].metadata.name}"))
	if len(names) != 2 {
		t.Fatalf("want 2 pods, got %v", names)
	}
	s.run("delete", "pod", names[0], "--wait=false")
	deadline := time.Now().Add(60 * time.Second)
	for {
		now := strings.Fields(s.get("pods", `{range .items[?(@.status.phase=="Running")]}{.metadata.name} {end}`))
		if len(now) == 2 && !strings.Contains(strings.Join(now, " "), names[0]) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deleted pod %s was not replaced within 60s: running %v", names[0], now)
		}
		time.Sleep(300 * time.Millisecond)
	}

	pidFile := filepath.Join(s.dir, names[1]+".pid")
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill the container process of %s: %v", names[1], err)
	}
	s.eventually([]string{"1"}, "get", "pod", names[1], "-o", "jsonpath={.status.containerStatuses[0].restartCount}")
	s.wait("pod/"+names[1], "condition=Ready")
}

// e2eStatefulSetOrder: web-0, web-1, web-2 are created in order, each
// after the previous is Ready, and scale-down removes them in reverse.
func e2eStatefulSetOrder(t *testing.T, c *cluster) {
	s := c.space(t, "sts")
	cs := clientFor(t, c.kubeconfig)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := cs.CoreV1().Pods(s.ns).Watch(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var created, deleting []string
	seenDeleting := map[string]bool{}
	go func() {
		for ev := range w.ResultChan() {
			pod, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			mu.Lock()
			if ev.Type == watch.Added {
				created = append(created, pod.Name)
			}
			if (pod.DeletionTimestamp != nil || ev.Type == watch.Deleted) && !seenDeleting[pod.Name] {
				seenDeleting[pod.Name] = true
				deleting = append(deleting, pod.Name)
			}
			mu.Unlock()
		}
	}()
	s.create("web", `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: none
        command: [sleep, "3600"]
        readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
`)
	s.run("rollout", "status", "statefulset/web", "--timeout=90s")
	if h := s.get("pod/web-1", "{.spec.hostname}.{.spec.subdomain}"); h != "web-1.web" {
		t.Errorf("web-1's hostname.subdomain is %q, want web-1.web", h)
	}
	s.run("scale", "statefulset/web", "--replicas=0")
	s.eventually([]string{"0"}, "get", "statefulset/web", "-o", "jsonpath={.status.replicas}")
	s.eventually([]string{"No resources found"}, "get", "pods", "-l", "app=web")
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(created, ","); got != "web-0,web-1,web-2" {
		t.Errorf("pods were created in the order %s, want web-0,web-1,web-2", got)
	}
	if got := strings.Join(deleting, ","); got != "web-2,web-1,web-0" {
		t.Errorf("pods were deleted in the order %s, want web-2,web-1,web-0", got)
	}
}

// e2eJobs: completions=5 with parallelism=2 completes; a failing Job stops
// at its backoffLimit with the Failed condition.
func e2eJobs(t *testing.T, c *cluster) {
	s := c.space(t, "jobs")
	s.create("jobs", `apiVersion: batch/v1
kind: Job
metadata: {name: five}
spec:
  completions: 5
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: none, command: [sh, -c, "sleep 0.5"]}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: fails}
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: none, command: [sh, -c, "exit 3"]}]
`)
	s.run("wait", "job/five", "--for=condition=Complete", "--timeout=120s")
	if got := s.get("job/five", "{.status.succeeded}"); got != "5" {
		t.Errorf("job five: succeeded %q, want 5", got)
	}
	s.run("wait", "job/fails", "--for=condition=Failed", "--timeout=120s")
	if got := s.get("job/fails", `{.status.conditions[?(@.type=="Failed")].reason}`); got != "BackoffLimitExceeded" {
		t.Errorf("job fails: Failed reason %q, want BackoffLimitExceeded", got)
	}
	if got := s.get("job/fails", "{.status.failed}"); got != "2" {
		t.Errorf("job fails: failed %q, want 2 (backoffLimit 1 allows one retry)", got)
	}
}

// e2eCascadingDelete: deleting a Deployment deletes its ReplicaSets and
// pods; --cascade=orphan keeps them, without the owner reference.
func e2eCascadingDelete(t *testing.T, c *cluster) {
	s := c.space(t, "cascade")
	for _, name := range []string{"gone", "kept"} {
		s.create(name, strings.ReplaceAll(`apiVersion: apps/v1
kind: Deployment
metadata: {name: NAME}
spec:
  replicas: 2
  selector: {matchLabels: {app: NAME}}
  template:
    metadata: {labels: {app: NAME}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: c, image: none, command: [sleep, "3600"]}]
`, "NAME", name))
		s.run("rollout", "status", "deployment/"+name, "--timeout=60s")
	}
	s.run("delete", "deployment", "gone")
	s.eventually([]string{"No resources found"}, "get", "rs,pods", "-l", "app=gone")

	s.run("delete", "deployment", "kept", "--cascade=orphan")
	s.eventually([]string{"NotFound"}, "get", "deployment", "kept")
	time.Sleep(2 * time.Second) // the garbage collector would have acted by now
	if n := strings.Fields(s.get("pods", "{.items[*].metadata.name}")); len(n) != 2 {
		t.Errorf("after --cascade=orphan want the 2 pods kept, got %v", n)
	}
	if refs := s.get("rs", "{.items[*].metadata.ownerReferences}"); refs != "" {
		t.Errorf("the orphaned ReplicaSet still has owner references: %s", refs)
	}
	if n := strings.Fields(s.get("rs", "{.items[*].metadata.name}")); len(n) != 1 {
		t.Errorf("after --cascade=orphan want the ReplicaSet kept, got %v", n)
	}
}
