package replicaset_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/controllers/ctrl"
	"skiff.dev/internal/controllers/ctrltest"
	"skiff.dev/internal/controllers/replicaset"
)

// TestReplicaSet runs the loop against a real API server, scheduler and
// two hollow nodes; each subtest works in its own namespace.
func TestReplicaSet(t *testing.T) {
	env := ctrltest.Start(t, ctrl.Options{}, nil)
	env.Run(replicaset.New)
	env.SimNodes(nil, "n1", "n2")
	h := &harness{env: env}

	t.Run("scale, replace and report", h.scale)
	t.Run("adopt an orphan", h.adopt)
	t.Run("release a relabeled pod", h.release)
	t.Run("minReadySeconds", h.minReady)
	t.Run("burst never overshoots", h.burst)
}

type harness struct {
	env *ctrltest.Env
}

func (h *harness) namespace(t *testing.T, name string) string {
	t.Helper()
	_, err := h.env.Client.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

func newRS(ns, name string, replicas int32) *appsv1.ReplicaSet {
	labels := map[string]string{"app": name}
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
			},
		},
	}
}

func (h *harness) createRS(t *testing.T, rs *appsv1.ReplicaSet) *appsv1.ReplicaSet {
	t.Helper()
	out, err := h.env.Client.AppsV1().ReplicaSets(rs.Namespace).Create(context.Background(), rs, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// pods lists the pods with rs's selector; active ones are not being
// deleted and not terminated.
func (h *harness) pods(ctx context.Context, rs *appsv1.ReplicaSet) (all, active []corev1.Pod, err error) {
	list, err := h.env.Client.CoreV1().Pods(rs.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: metav1.FormatLabelSelector(rs.Spec.Selector)})
	if err != nil {
		return nil, nil, err
	}
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			active = append(active, p)
		}
	}
	return list.Items, active, nil
}

// waitSettled waits until rs has exactly n active pods, all Running and
// controlled by it, and a status that says so for its current generation.
func (h *harness) waitSettled(t *testing.T, rs *appsv1.ReplicaSet, n int32) []corev1.Pod {
	t.Helper()
	var active []corev1.Pod
	h.env.WaitFor(20*time.Second, fmt.Sprintf("%s to settle at %d pods", rs.Name, n), func(ctx context.Context) (bool, error) {
		var err error
		_, active, err = h.pods(ctx, rs)
		if err != nil || int32(len(active)) != n {
			return false, err
		}
		for _, p := range active {
			ref := metav1.GetControllerOf(&p)
			if p.Status.Phase != corev1.PodRunning || ref == nil || ref.UID != rs.UID || ref.Kind != "ReplicaSet" {
				return false, nil
			}
		}
		cur, err := h.env.Client.AppsV1().ReplicaSets(rs.Namespace).Get(ctx, rs.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		st := cur.Status
		return st.ObservedGeneration == cur.Generation && st.Replicas == n && st.FullyLabeledReplicas == n &&
			st.ReadyReplicas == n && st.AvailableReplicas == n, nil
	})
	return active
}

func (h *harness) scaleTo(t *testing.T, rs *appsv1.ReplicaSet, n int32) {
	t.Helper()
	ctx := context.Background()
	sc, err := h.env.Client.AppsV1().ReplicaSets(rs.Namespace).GetScale(ctx, rs.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc.Spec.Replicas = n
	if _, err := h.env.Client.AppsV1().ReplicaSets(rs.Namespace).UpdateScale(ctx, rs.Name, sc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// hasEvent waits for an event on the ReplicaSet with reason and message.
func (h *harness) hasEvent(t *testing.T, rs *appsv1.ReplicaSet, reason, message string) {
	t.Helper()
	h.env.WaitFor(10*time.Second, "event "+reason+" "+message, func(ctx context.Context) (bool, error) {
		evs, err := h.env.Client.CoreV1().Events(rs.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, e := range evs.Items {
			if e.InvolvedObject.UID == rs.UID && e.Reason == reason && e.Message == message &&
				e.Source.Component == replicaset.Name {
				return true, nil
			}
		}
		return false, nil
	})
}

func (h *harness) scale(t *testing.T) {
	ctx := context.Background()
	rs := h.createRS(t, newRS(h.namespace(t, "scale"), "web", 3))
	pods := h.waitSettled(t, rs, 3)
	for _, p := range pods {
		if !strings.HasPrefix(p.Name, "web-") || p.Spec.NodeName == "" {
			t.Errorf("pod %s: want a web- name and a node, got node %q", p.Name, p.Spec.NodeName)
		}
	}
	h.hasEvent(t, rs, replicaset.EventSuccessfulCreate, "Created pod: "+pods[0].Name)

	h.scaleTo(t, rs, 10)
	h.waitSettled(t, rs, 10)
	h.scaleTo(t, rs, 2)
	left := h.waitSettled(t, rs, 2)
	cur, err := h.env.Client.AppsV1().ReplicaSets(rs.Namespace).Get(ctx, rs.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cur.Status.TerminatingReplicas == nil {
		t.Error("status.terminatingReplicas should be set")
	}

	// Deleted pods are gone (sim nodes finish them at once); find one
	// SuccessfulDelete for a pod that is no longer active.
	all, _, err := h.pods(ctx, rs)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := h.env.Client.CoreV1().Events(rs.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	deleted := 0
	for _, e := range evs.Items {
		if e.Reason == replicaset.EventSuccessfulDelete && strings.HasPrefix(e.Message, "Deleted pod: web-") {
			deleted++
		}
	}
	if deleted == 0 {
		t.Errorf("no SuccessfulDelete events after scaling 10 -> 2 (pods now: %d)", len(all))
	}

	// A deleted pod is replaced.
	victim := left[0]
	if err := h.env.Client.CoreV1().Pods(rs.Namespace).Delete(ctx, victim.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	h.env.WaitFor(20*time.Second, "the deleted pod to be replaced", func(ctx context.Context) (bool, error) {
		_, active, err := h.pods(ctx, rs)
		if err != nil || len(active) != 2 {
			return false, err
		}
		for _, p := range active {
			if p.UID == victim.UID {
				return false, nil
			}
		}
		return true, nil
	})
	h.waitSettled(t, rs, 2)
}

func (h *harness) adopt(t *testing.T) {
	ctx := context.Background()
	ns := h.namespace(t, "adopt")
	tmpl := newRS(ns, "web", 3)
	orphan := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "orphan", Namespace: ns, Labels: tmpl.Spec.Template.Labels},
		Spec:       tmpl.Spec.Template.Spec,
	}
	orphan, err := h.env.Client.CoreV1().Pods(ns).Create(ctx, orphan, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs := h.createRS(t, tmpl)
	pods := h.waitSettled(t, rs, 3)
	found := false
	for _, p := range pods {
		found = found || p.UID == orphan.UID
	}
	if !found {
		t.Fatal("the orphan was not adopted (it is not among the 3 active pods)")
	}
	// Only two pods were ever created: nothing else carries the selector,
	// and no SuccessfulCreate event names a third.
	all, _, err := h.pods(ctx, rs)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Errorf("pods with the selector: %d, want 3 (orphan + 2 created)", len(all))
	}
	time.Sleep(500 * time.Millisecond) // let late events arrive
	evs, err := h.env.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created := 0
	for _, e := range evs.Items {
		if e.InvolvedObject.UID == rs.UID && e.Reason == replicaset.EventSuccessfulCreate {
			created += int(e.Count)
		}
	}
	if created != 2 {
		t.Errorf("SuccessfulCreate events: %d, want 2", created)
	}
}

func (h *harness) release(t *testing.T) {
	ctx := context.Background()
	rs := h.createRS(t, newRS(h.namespace(t, "release"), "web", 3))
	pods := h.waitSettled(t, rs, 3)
	victim := pods[0]
	patch := []byte(`{"metadata":{"labels":{"app":"elsewhere"}}}`)
	if _, err := h.env.Client.CoreV1().Pods(rs.Namespace).Patch(ctx, victim.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	h.env.WaitFor(20*time.Second, "the relabeled pod to be released", func(ctx context.Context) (bool, error) {
		p, err := h.env.Client.CoreV1().Pods(rs.Namespace).Get(ctx, victim.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return metav1.GetControllerOf(p) == nil, nil
	})
	now := h.waitSettled(t, rs, 3)
	for _, p := range now {
		if p.UID == victim.UID {
			t.Error("the released pod is still counted")
		}
	}
}

func (h *harness) minReady(t *testing.T) {
	rs := newRS(h.namespace(t, "minready"), "web", 3)
	rs.Spec.MinReadySeconds = 2
	rs = h.createRS(t, rs)
	var sawReadyNotAvailable bool
	start := time.Now()
	h.env.WaitFor(20*time.Second, "all replicas available", func(ctx context.Context) (bool, error) {
		cur, err := h.env.Client.AppsV1().ReplicaSets(rs.Namespace).Get(ctx, rs.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if cur.Status.ReadyReplicas == 3 && cur.Status.AvailableReplicas < 3 {
			sawReadyNotAvailable = true
		}
		return cur.Status.AvailableReplicas == 3 && cur.Status.ReadyReplicas == 3, nil
	})
	if !sawReadyNotAvailable {
		t.Error("pods should be ready some time before they count as available")
	}
	if d := time.Since(start); d < 2*time.Second {
		t.Errorf("available after %v, before minReadySeconds", d)
	}
}

func (h *harness) burst(t *testing.T) {
	rs := h.createRS(t, newRS(h.namespace(t, "burst"), "web", 50))
	var mu sync.Mutex
	maxSeen := 0
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			all, _, err := h.pods(ctx, rs)
			if err == nil {
				mu.Lock()
				maxSeen = max(maxSeen, len(all))
				mu.Unlock()
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	h.waitSettled(t, rs, 50)
	time.Sleep(time.Second) // and stays there
	cancel()
	wg.Wait()
	all, _, err := h.pods(context.Background(), rs)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 50 {
		t.Errorf("pods after settling: %d, want 50", len(all))
	}
	if maxSeen > 50 {
		t.Errorf("saw %d pods at once, more than the 50 replicas", maxSeen)
	}
	if maxSeen < 50 {
		t.Errorf("the watcher saw at most %d pods; it should have seen 50", maxSeen)
	}
}
