package deployment_test

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/agent"
	"skiff.dev/internal/controllers/ctrl"
	"skiff.dev/internal/controllers/ctrltest"
	"skiff.dev/internal/controllers/deployment"
	"skiff.dev/internal/controllers/replicaset"
	"skiff.dev/internal/runtime"
)

const ns = "default"

func start(t *testing.T, tune func(*agent.Options)) *ctrltest.Env {
	t.Helper()
	env := ctrltest.Start(t, ctrl.Options{}, nil)
	env.SimNodes(tune, "n1", "n2")
	env.Run(replicaset.New, deployment.New)
	return env
}

func newDeployment(name string, n int32, image string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(n),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: image}}},
			},
		},
	}
}

// rolledOut is kubectl rollout status's test for a finished rollout.
func rolledOut(d *appsv1.Deployment) bool {
	n := ptr.Deref(d.Spec.Replicas, 1)
	return d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas == n &&
		d.Status.Replicas == n && d.Status.AvailableReplicas == n
}

func waitRolledOut(t *testing.T, env *ctrltest.Env, name string) *appsv1.Deployment {
	t.Helper()
	var d *appsv1.Deployment
	env.WaitFor(20*time.Second, name+" rolled out", func(ctx context.Context) (bool, error) {
		var err error
		d, err = env.Client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		return err == nil && rolledOut(d), err
	})
	return d
}

func update(t *testing.T, env *ctrltest.Env, name string, change func(*appsv1.Deployment)) {
	t.Helper()
	env.WaitFor(10*time.Second, "update "+name, func(ctx context.Context) (bool, error) {
		d, err := env.Client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		change(d)
		_, err = env.Client.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{})
		return err == nil, err
	})
}

// replicaSets lists the deployment's replica sets by name.
func replicaSets(t *testing.T, env *ctrltest.Env, d *appsv1.Deployment) map[string]*appsv1.ReplicaSet {
	t.Helper()
	list, err := env.Client.AppsV1().ReplicaSets(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*appsv1.ReplicaSet{}
	for i := range list.Items {
		rs := &list.Items[i]
		if ref := metav1.GetControllerOf(rs); ref != nil && ref.UID == d.UID {
			out[rs.Name] = rs
		}
	}
	return out
}

func condition(d *appsv1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range d.Status.Conditions {
		if d.Status.Conditions[i].Type == t {
			return &d.Status.Conditions[i]
		}
	}
	return nil
}

func hasEvent(t *testing.T, env *ctrltest.Env, reason, message string) bool {
	t.Helper()
	list, err := env.Client.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list.Items {
		// After ten similar events client-go's correlator prefixes the
		// message with "(combined from similar events): ".
		if e.Reason == reason && strings.HasSuffix(e.Message, message) && e.Source.Component == deployment.Name {
			return true
		}
	}
	return false
}

// podWatch follows the pods of one app and calls see with every pod
// state it learns of, in order, until the test ends.
func podWatch(t *testing.T, env *ctrltest.Env, app string, see func(pods map[types.UID]*corev1.Pod)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := env.Client.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{LabelSelector: "app=" + app})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); w.Stop(); <-done })
	go func() {
		defer close(done)
		pods := map[types.UID]*corev1.Pod{}
		for ev := range w.ResultChan() {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			if ev.Type == watch.Deleted {
				delete(pods, p.UID)
			} else {
				pods[p.UID] = p
			}
			see(pods)
		}
	}()
}

func ready(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil || p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func TestRollingUpdate(t *testing.T) {
	env := start(t, nil)
	ctx := context.Background()
	d := newDeployment("web", 3, "nginx:1")
	d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{
		MaxSurge: ptr.To(intstr.FromInt32(1)), MaxUnavailable: ptr.To(intstr.FromInt32(0))}
	d, err := env.Client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d = waitRolledOut(t, env, "web")
	if c := condition(d, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionTrue || c.Reason != "MinimumReplicasAvailable" {
		t.Errorf("Available: %+v", c)
	}
	rss := replicaSets(t, env, d)
	if len(rss) != 1 {
		t.Fatalf("want one replica set, got %d", len(rss))
	}
	var first *appsv1.ReplicaSet
	for _, rs := range rss {
		first = rs
	}
	hash := first.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
	if first.Name != "web-"+hash || first.Spec.Selector.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey] != hash ||
		first.Annotations[deployment.RevisionAnnotation] != "1" || d.Annotations[deployment.RevisionAnnotation] != "1" {
		t.Errorf("first replica set: name %s, labels %v, annotations %v; deployment annotations %v",
			first.Name, first.Labels, first.Annotations, d.Annotations)
	}
	env.WaitFor(10*time.Second, "progressing condition", func(ctx context.Context) (bool, error) {
		d, err := env.Client.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		c := condition(d, appsv1.DeploymentProgressing)
		return c != nil && c.Reason == "NewReplicaSetAvailable" &&
			c.Message == fmt.Sprintf("ReplicaSet %q has successfully progressed.", first.Name), nil
	})
	if !hasEvent(t, env, "ScalingReplicaSet", fmt.Sprintf("Scaled up replica set %s from 0 to 3", first.Name)) {
		t.Errorf("no ScalingReplicaSet event for the first replica set")
	}

	for _, n := range []int32{10, 2, 3} {
		update(t, env, "web", func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To(n) })
		d = waitRolledOut(t, env, "web")
		if rs := replicaSets(t, env, d)[first.Name]; replicas(rs) != n {
			t.Fatalf("scaled to %d: replica set has %d", n, replicas(rs))
		}
	}

	// Roll out a new template with maxUnavailable 0: a watcher counts the
	// Ready pods and must never see fewer than 3 once 3 were there.
	var mu sync.Mutex
	lowest, seenFull := int32(100), false
	podWatch(t, env, "web", func(pods map[types.UID]*corev1.Pod) {
		var n int32
		for _, p := range pods {
			if ready(p) {
				n++
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if n >= 3 {
			seenFull = true
		}
		if seenFull {
			lowest = min(lowest, n)
		}
	})
	update(t, env, "web", func(d *appsv1.Deployment) {
		d.Spec.Template.Spec.Containers[0].Image = "nginx:2"
		d.Annotations = map[string]string{"kubernetes.io/change-cause": "to nginx:2"}
	})
	d = waitRolledOut(t, env, "web")
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	if !seenFull || lowest < 3 {
		t.Errorf("during the rollout Ready pods fell to %d (saw full: %v)", lowest, seenFull)
	}
	mu.Unlock()
	rss = replicaSets(t, env, d)
	if len(rss) != 2 {
		t.Fatalf("want two replica sets, got %d", len(rss))
	}
	var second *appsv1.ReplicaSet
	for name, rs := range rss {
		if name != first.Name {
			second = rs
		}
	}
	if second.Annotations[deployment.RevisionAnnotation] != "2" || rss[first.Name].Annotations[deployment.RevisionAnnotation] != "1" ||
		second.Annotations["kubernetes.io/change-cause"] != "to nginx:2" || replicas(rss[first.Name]) != 0 ||
		d.Annotations[deployment.RevisionAnnotation] != "2" {
		t.Errorf("after the rollout: old %v (%d replicas), new %v, deployment %v", rss[first.Name].Annotations,
			replicas(rss[first.Name]), second.Annotations, d.Annotations)
	}
	if !hasEvent(t, env, "ScalingReplicaSet", fmt.Sprintf("Scaled down replica set %s from 1 to 0", first.Name)) {
		t.Errorf("no scale-down event for the old replica set")
	}

	// kubectl rollout undo brings the first template, and replica set, back.
	out, err := exec.Command("kubectl", "--kubeconfig", env.Kubeconfig, "-n", ns, "rollout", "undo", "deployment/web").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl rollout undo: %v: %s", err, out)
	}
	d = waitRolledOut(t, env, "web")
	out, err = exec.Command("kubectl", "--kubeconfig", env.Kubeconfig, "-n", ns, "rollout", "status", "deployment/web", "--timeout=10s").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "successfully rolled out") {
		t.Errorf("kubectl rollout status: %v: %s", err, out)
	}
	rss = replicaSets(t, env, d)
	back := rss[first.Name]
	if len(rss) != 2 || replicas(back) != 3 || replicas(rss[second.Name]) != 0 ||
		back.Annotations[deployment.RevisionAnnotation] != "3" || back.Annotations[deployment.RevisionHistoryAnnotation] != "1" ||
		d.Annotations[deployment.RevisionAnnotation] != "3" || d.Spec.Template.Spec.Containers[0].Image != "nginx:1" {
		t.Errorf("after undo: %d replica sets, first %d replicas %v, deployment %v",
			len(rss), replicas(back), back.Annotations, d.Annotations)
	}
	out, err = exec.Command("kubectl", "--kubeconfig", env.Kubeconfig, "-n", ns, "rollout", "history", "deployment/web").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "to nginx:2") {
		t.Errorf("kubectl rollout history: %v: %s", err, out)
	}
}

func replicas(rs *appsv1.ReplicaSet) int32 {
	if rs == nil {
		return -1
	}
	return ptr.Deref(rs.Spec.Replicas, 0)
}

// slowStop makes stopping a container take a while, so pods being
// deleted keep running for it.
type slowStop struct{ runtime.Runtime }

func (s slowStop) StopContainer(ctx context.Context, id string, timeout int64) error {
	select {
	case <-time.After(time.Second):
	case <-ctx.Done():
	}
	return s.Runtime.StopContainer(ctx, id, timeout)
}

func TestRecreate(t *testing.T) {
	env := start(t, func(o *agent.Options) { o.Runtime = slowStop{o.Runtime} })
	ctx := context.Background()
	d := newDeployment("db", 3, "postgres:1")
	d.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType
	if _, err := env.Client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, env, "db")

	var mu sync.Mutex
	var mixed []string
	seen := map[string]bool{}
	podWatch(t, env, "db", func(pods map[types.UID]*corev1.Pod) {
		hashes := map[string]bool{}
		for _, p := range pods {
			if p.Status.Phase == corev1.PodRunning {
				hashes[p.Labels[appsv1.DefaultDeploymentUniqueLabelKey]] = true
			}
		}
		mu.Lock()
		defer mu.Unlock()
		for h := range hashes {
			seen[h] = true
		}
		if len(hashes) > 1 {
			mixed = append(mixed, fmt.Sprint(hashes))
		}
	})
	update(t, env, "db", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "postgres:2" })
	d = waitRolledOut(t, env, "db")
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	if len(mixed) > 0 {
		t.Errorf("old and new pods ran together: %v", mixed)
	}
	if len(seen) != 2 {
		t.Errorf("the watcher saw running pods of %d templates, want 2", len(seen))
	}
	mu.Unlock()
	if d.Spec.Template.Spec.Containers[0].Image != "postgres:2" || len(replicaSets(t, env, d)) != 2 {
		t.Errorf("Recreate did not roll out")
	}
}

func TestPaused(t *testing.T) {
	env := start(t, nil)
	ctx := context.Background()
	d, err := env.Client.AppsV1().Deployments(ns).Create(ctx, newDeployment("api", 2, "api:1"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, env, "api")
	update(t, env, "api", func(d *appsv1.Deployment) {
		d.Spec.Paused = true
		d.Spec.Template.Spec.Containers[0].Image = "api:2"
	})
	env.WaitFor(10*time.Second, "paused condition", func(ctx context.Context) (bool, error) {
		d, err = env.Client.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		c := condition(d, appsv1.DeploymentProgressing)
		return c != nil && c.Reason == "DeploymentPaused" && c.Message == "Deployment is paused" &&
			c.Status == corev1.ConditionUnknown, nil
	})
	// Scaling still works while paused, but nothing rolls out.
	update(t, env, "api", func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To[int32](4) })
	env.WaitFor(10*time.Second, "paused deployment scaled", func(ctx context.Context) (bool, error) {
		d, err = env.Client.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{})
		return err == nil && d.Status.ObservedGeneration >= d.Generation && d.Status.AvailableReplicas == 4, err
	})
	time.Sleep(time.Second)
	rss := replicaSets(t, env, d)
	if len(rss) != 1 {
		t.Fatalf("paused deployment rolled out: %d replica sets", len(rss))
	}
	if d.Status.UpdatedReplicas != 0 {
		t.Errorf("paused: updatedReplicas %d, want 0 (the template changed)", d.Status.UpdatedReplicas)
	}
	update(t, env, "api", func(d *appsv1.Deployment) { d.Spec.Paused = false })
	d = waitRolledOut(t, env, "api")
	if len(replicaSets(t, env, d)) != 2 || d.Spec.Template.Spec.Containers[0].Image != "api:2" {
		t.Errorf("resumed deployment did not roll out")
	}
}

// TestProgressDeadline rolls out pods that never become ready: the
// rollout stops at maxUnavailable and reports ProgressDeadlineExceeded.
func TestProgressDeadline(t *testing.T) {
	env := start(t, nil)
	ctx := context.Background()
	d := newDeployment("bad", 2, "bad:1")
	d.Spec.ProgressDeadlineSeconds = ptr.To[int32](2)
	if _, err := env.Client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, env, "bad")
	update(t, env, "bad", func(d *appsv1.Deployment) {
		d.Spec.Template.Spec.Containers[0].Image = "bad:2"
		d.Spec.Template.Annotations = map[string]string{"sim.skiff.dev/exit-code": "1"}
	})
	env.WaitFor(15*time.Second, "ProgressDeadlineExceeded", func(ctx context.Context) (bool, error) {
		d, err := env.Client.AppsV1().Deployments(ns).Get(ctx, "bad", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		c := condition(d, appsv1.DeploymentProgressing)
		return c != nil && c.Reason == "ProgressDeadlineExceeded" && c.Status == corev1.ConditionFalse &&
			strings.HasSuffix(c.Message, "has timed out progressing."), nil
	})
	d, err := env.Client.AppsV1().Deployments(ns).Get(ctx, "bad", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// maxUnavailable 25% of 2 is 0: both old pods still serve.
	if d.Status.AvailableReplicas != 2 {
		t.Errorf("available replicas %d, want 2", d.Status.AvailableReplicas)
	}
}

// TestRevisionHistoryLimit keeps one old replica set after three rollouts.
func TestRevisionHistoryLimit(t *testing.T) {
	env := start(t, nil)
	ctx := context.Background()
	d := newDeployment("hist", 1, "hist:1")
	d.Spec.RevisionHistoryLimit = ptr.To[int32](1)
	d, err := env.Client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, env, "hist")
	for _, image := range []string{"hist:2", "hist:3", "hist:4"} {
		update(t, env, "hist", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = image })
		waitRolledOut(t, env, "hist")
	}
	env.WaitFor(10*time.Second, "old replica sets pruned", func(ctx context.Context) (bool, error) {
		rss := replicaSets(t, env, d)
		revs := map[string]bool{}
		for _, rs := range rss {
			revs[rs.Annotations[deployment.RevisionAnnotation]] = true
		}
		return len(rss) == 2 && revs["3"] && revs["4"], nil
	})
}

// TestProportionalScaling is the Deployment documentation's example: 10
// replicas, maxSurge 3, maxUnavailable 2, a rollout stuck on pods that
// never become ready at 8 old and 5 new; scaled to 15, the old replica
// set gets 3 more and the new one 2.
func TestProportionalScaling(t *testing.T) {
	env := start(t, nil)
	ctx := context.Background()
	d := newDeployment("prop", 10, "prop:1")
	d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{
		MaxSurge: ptr.To(intstr.FromInt32(3)), MaxUnavailable: ptr.To(intstr.FromInt32(2))}
	d, err := env.Client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitRolledOut(t, env, "prop")
	oldName := ""
	for name := range replicaSets(t, env, d) {
		oldName = name
	}
	update(t, env, "prop", func(d *appsv1.Deployment) {
		d.Spec.Template.Spec.Containers[0].Image = "prop:broken"
		d.Spec.Template.Annotations = map[string]string{"sim.skiff.dev/exit-code": "1"}
	})
	sizes := func() (old, cur int32) {
		for name, rs := range replicaSets(t, env, d) {
			if name == oldName {
				old = replicas(rs)
			} else {
				cur = replicas(rs)
			}
		}
		return old, cur
	}
	env.WaitFor(15*time.Second, "rollout stuck at 8 old, 5 new", func(ctx context.Context) (bool, error) {
		old, cur := sizes()
		return old == 8 && cur == 5, nil
	})
	time.Sleep(500 * time.Millisecond)
	if old, cur := sizes(); old != 8 || cur != 5 {
		t.Fatalf("stuck rollout moved on: old %d, new %d", old, cur)
	}
	update(t, env, "prop", func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To[int32](15) })
	env.WaitFor(10*time.Second, "scaled proportionally to 11 old, 7 new", func(ctx context.Context) (bool, error) {
		old, cur := sizes()
		return old == 11 && cur == 7, nil
	})
}
