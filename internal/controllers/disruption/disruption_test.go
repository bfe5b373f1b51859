package disruption_test

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	policyv1beta1 "k8s.io/api/policy/v1beta1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/controllers/ctrl"
	"skiff.dev/internal/controllers/ctrltest"
	"skiff.dev/internal/controllers/disruption"
)

// TestDisruption runs the loop and the API server's eviction subresource
// against a real control plane with two hollow nodes; each subtest works
// in its own namespace.
func TestDisruption(t *testing.T) {
	disruption.StalePodDisruptionTimeout = 2 * time.Second
	t.Cleanup(func() { disruption.StalePodDisruptionTimeout = 2 * time.Minute })
	env := ctrltest.Start(t, ctrl.Options{}, nil)
	env.Run(disruption.New)
	env.SimNodes(nil, "n1", "n2")
	h := &harness{env: env}
	t.Run("budget and evictions", h.evictions)
	t.Run("scale from controllers", h.controllers)
	t.Run("stale DisruptionTarget reset", h.stale)
	t.Run("kubectl drain", h.drain)
}

type harness struct{ env *ctrltest.Env }

var ctx = context.Background()

func (h *harness) namespace(t *testing.T, name string) string {
	t.Helper()
	_, err := h.env.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// runPod creates a pod bound to node and waits until it is ready.
func (h *harness) runPod(t *testing.T, ns, name, node string, labels map[string]string, edit func(*corev1.Pod)) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	if edit != nil {
		edit(pod)
	}
	if _, err := h.env.Client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var out *corev1.Pod
	h.env.WaitFor(30*time.Second, "pod "+name+" ready", func(ctx context.Context) (bool, error) {
		p, err := h.env.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		out = p
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
	return out
}

func (h *harness) createPDB(t *testing.T, ns, name string, spec policyv1.PodDisruptionBudgetSpec) {
	t.Helper()
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: spec}
	if _, err := h.env.Client.PolicyV1().PodDisruptionBudgets(ns).Create(ctx, pdb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitStatus waits until the budget's status, observed at its current
// generation, matches want (conditions aside).
func (h *harness) waitStatus(t *testing.T, ns, name string, want policyv1.PodDisruptionBudgetStatus) *policyv1.PodDisruptionBudget {
	t.Helper()
	var pdb *policyv1.PodDisruptionBudget
	h.env.WaitFor(20*time.Second, "budget "+name+" status", func(ctx context.Context) (bool, error) {
		p, err := h.env.Client.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		pdb = p
		s := p.Status
		return s.ObservedGeneration == p.Generation && s.ExpectedPods == want.ExpectedPods && s.DesiredHealthy == want.DesiredHealthy &&
			s.CurrentHealthy == want.CurrentHealthy && s.DisruptionsAllowed == want.DisruptionsAllowed, nil
	})
	return pdb
}

func evict(env *ctrltest.Env, ns, name string) error {
	return env.Client.PolicyV1().Evictions(ns).Evict(ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}})
}

func (h *harness) evictions(t *testing.T) {
	ns := h.namespace(t, "evict")
	x := map[string]string{"app": "x"}
	hold := func(p *corev1.Pod) { p.Finalizers = []string{"skiff.dev/test-hold"} }
	h.runPod(t, ns, "x-0", "n1", x, hold)
	h.runPod(t, ns, "x-1", "n1", x, nil)
	h.runPod(t, ns, "x-2", "n1", x, nil)
	h.createPDB(t, ns, "x", policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(2)),
		Selector: &metav1.LabelSelector{MatchLabels: x}})
	pdb := h.waitStatus(t, ns, "x", policyv1.PodDisruptionBudgetStatus{ExpectedPods: 3, DesiredHealthy: 2, CurrentHealthy: 3, DisruptionsAllowed: 1})
	c := apimeta.FindStatusCondition(pdb.Status.Conditions, policyv1.DisruptionAllowedCondition)
	if c == nil || c.Status != metav1.ConditionTrue || c.Reason != policyv1.SufficientPodsReason {
		t.Fatalf("DisruptionAllowed condition = %+v", c)
	}

	// The first eviction spends the one allowed disruption. x-0's
	// finalizer keeps it visible while it terminates.
	if err := evict(h.env, ns, "x-0"); err != nil {
		t.Fatalf("first eviction: %v", err)
	}
	pod, err := h.env.Client.CoreV1().Pods(ns).Get(ctx, "x-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pod.DeletionTimestamp == nil {
		t.Error("evicted pod x-0 is not being deleted")
	}
	dt := podCondition(pod, corev1.DisruptionTarget)
	if dt == nil || dt.Status != corev1.ConditionTrue || dt.Reason != "EvictionByEvictionAPI" {
		t.Errorf("DisruptionTarget condition = %+v", dt)
	}
	t.Cleanup(func() {
		_, _ = h.env.Client.CoreV1().Pods(ns).Patch(ctx, "x-0", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
	})
	got, err := h.env.Client.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, "x", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.DisruptionsAllowed != 0 {
		t.Errorf("disruptionsAllowed after an eviction = %d, want 0", got.Status.DisruptionsAllowed)
	}

	// The second is refused at once, with the budget's numbers.
	start := time.Now()
	err = evict(h.env, ns, "x-1")
	if !apierrors.IsTooManyRequests(err) {
		t.Fatalf("second eviction: %v, want 429", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusal took %v: the client should not have been told to retry", d)
	}
	var se *apierrors.StatusError
	if !errors.As(err, &se) || se.ErrStatus.Details == nil || len(se.ErrStatus.Details.Causes) != 1 ||
		se.ErrStatus.Details.Causes[0].Type != policyv1.DisruptionBudgetCause ||
		se.ErrStatus.Details.Causes[0].Message != "The disruption budget x needs 2 healthy pods and has 2 currently" ||
		se.ErrStatus.Message != "Cannot evict pod as it would violate the pod's disruption budget." {
		t.Errorf("refusal = %#v", err)
	}
	if _, err := h.env.Client.CoreV1().Pods(ns).Get(ctx, "x-1", metav1.GetOptions{}); err != nil {
		t.Errorf("refused pod x-1: %v", err)
	}
	h.waitStatus(t, ns, "x", policyv1.PodDisruptionBudgetStatus{ExpectedPods: 3, DesiredHealthy: 2, CurrentHealthy: 2, DisruptionsAllowed: 0})

	// A pod no budget covers is evicted directly; a dry run (here in a
	// policy/v1beta1 body) changes nothing.
	h.runPod(t, ns, "solo", "n1", map[string]string{"app": "y"}, nil)
	err = h.env.Client.PolicyV1beta1().Evictions(ns).Evict(ctx, &policyv1beta1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: "solo", Namespace: ns},
		DeleteOptions: &metav1.DeleteOptions{DryRun: []string{metav1.DryRunAll}}})
	if err != nil {
		t.Fatalf("dry-run v1beta1 eviction: %v", err)
	}
	if p, err := h.env.Client.CoreV1().Pods(ns).Get(ctx, "solo", metav1.GetOptions{}); err != nil || p.DeletionTimestamp != nil || podCondition(p, corev1.DisruptionTarget) != nil {
		t.Fatalf("after a dry run: pod %v, err %v", p, err)
	}
	if err := evict(h.env, ns, "solo"); err != nil {
		t.Fatalf("evict uncovered pod: %v", err)
	}
	p, err := h.env.Client.CoreV1().Pods(ns).Get(ctx, "solo", metav1.GetOptions{})
	if err == nil && p.DeletionTimestamp == nil {
		t.Error("uncovered pod neither gone nor terminating after eviction")
	} else if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}

	// Two budgets over one pod: the eviction subresource gives up.
	h.createPDB(t, ns, "x-too", policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptr.To(intstr.FromInt32(1)),
		Selector: &metav1.LabelSelector{MatchLabels: x}})
	err = evict(h.env, ns, "x-2")
	if !errors.As(err, &se) || se.ErrStatus.Code != 500 ||
		se.ErrStatus.Message != "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support." {
		t.Errorf("eviction under two budgets: %#v", err)
	}
	if p, err := h.env.Client.CoreV1().Pods(ns).Get(ctx, "x-2", metav1.GetOptions{}); err != nil || p.DeletionTimestamp != nil {
		t.Errorf("pod x-2 under two budgets was deleted (err %v)", err)
	}
}

func podCondition(pod *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == t {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

// controllers checks percentages and maxUnavailable against the scale of
// the pods' controllers: a ReplicaSet, and a Deployment through its
// ReplicaSet. No workload loops run, so the controllers make no pods.
func (h *harness) controllers(t *testing.T) {
	ns := h.namespace(t, "scale")
	labels := map[string]string{"app": "s"}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "rs", Namespace: ns},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](4), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}
	rs, err := h.env.Client.AppsV1().ReplicaSets(ns).Create(ctx, rs, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	owned := func(kind string, owner metav1.Object) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(owner, appsv1.SchemeGroupVersion.WithKind(kind))}
		}
	}
	h.runPod(t, ns, "s-0", "n1", labels, owned("ReplicaSet", rs))
	h.runPod(t, ns, "s-1", "n1", labels, owned("ReplicaSet", rs))
	// maxUnavailable 1 of the ReplicaSet's 4: 3 must be healthy, 2 are.
	h.createPDB(t, ns, "max", policyv1.PodDisruptionBudgetSpec{MaxUnavailable: ptr.To(intstr.FromInt32(1)),
		Selector: &metav1.LabelSelector{MatchLabels: labels}})
	h.waitStatus(t, ns, "max", policyv1.PodDisruptionBudgetStatus{ExpectedPods: 4, DesiredHealthy: 3, CurrentHealthy: 2, DisruptionsAllowed: 0})

	dl := map[string]string{"app": "d"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](5), Selector: &metav1.LabelSelector{MatchLabels: dl},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: dl},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}
	d, err = h.env.Client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	drs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: ns,
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(d, appsv1.SchemeGroupVersion.WithKind("Deployment"))}},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](1), Selector: d.Spec.Selector, Template: d.Spec.Template}}
	drs, err = h.env.Client.AppsV1().ReplicaSets(ns).Create(ctx, drs, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"d-0", "d-1", "d-2"} {
		h.runPod(t, ns, name, "n1", dl, owned("ReplicaSet", drs))
	}
	// 40% of the Deployment's 5 (not the ReplicaSet's 1) is 2.
	h.createPDB(t, ns, "pct", policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromString("40%")),
		Selector: &metav1.LabelSelector{MatchLabels: dl}})
	h.waitStatus(t, ns, "pct", policyv1.PodDisruptionBudgetStatus{ExpectedPods: 5, DesiredHealthy: 2, CurrentHealthy: 3, DisruptionsAllowed: 1})

	// Scaling the Deployment changes nothing by itself; a pod event does.
	d.Spec.Replicas = ptr.To[int32](10)
	if _, err := h.env.Client.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.runPod(t, ns, "d-3", "n1", dl, owned("ReplicaSet", drs))
	h.waitStatus(t, ns, "pct", policyv1.PodDisruptionBudgetStatus{ExpectedPods: 10, DesiredHealthy: 4, CurrentHealthy: 4, DisruptionsAllowed: 0})

	// A pod whose controller cannot be found fails the sync safe.
	h.runPod(t, ns, "lost", "n1", dl, func(p *corev1.Pod) {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "nope", UID: "nope", Controller: ptr.To(true)}}
	})
	h.env.WaitFor(20*time.Second, "SyncFailed condition", func(ctx context.Context) (bool, error) {
		p, err := h.env.Client.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, "pct", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		c := apimeta.FindStatusCondition(p.Status.Conditions, policyv1.DisruptionAllowedCondition)
		return c != nil && c.Reason == policyv1.SyncFailedReason && c.Message == `found no controllers for pod "lost"` &&
			p.Status.DisruptionsAllowed == 0, nil
	})
}

// stale checks that a DisruptionTarget condition on a pod nobody deletes
// is reset to false (the timeout is 2 s in this test).
func (h *harness) stale(t *testing.T) {
	ns := h.namespace(t, "stale")
	pod := h.runPod(t, ns, "p", "n1", nil, nil)
	pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
		Reason: "EvictionByEvictionAPI", Message: "Eviction API: evicting", LastTransitionTime: metav1.Now()})
	if _, err := h.env.Client.CoreV1().Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h.env.WaitFor(20*time.Second, "DisruptionTarget reset", func(ctx context.Context) (bool, error) {
		p, err := h.env.Client.CoreV1().Pods(ns).Get(ctx, "p", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		c := podCondition(p, corev1.DisruptionTarget)
		return c != nil && c.Status == corev1.ConditionFalse, nil
	})
}

// drain runs the real kubectl drain on a node whose two bare pods share a
// budget of minAvailable 1: one pod goes, the other stays until kubectl
// gives up.
func (h *harness) drain(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatal("kubectl is not on PATH")
	}
	ns := h.namespace(t, "drain")
	labels := map[string]string{"app": "dr"}
	h.runPod(t, ns, "dr-0", "n2", labels, nil)
	h.runPod(t, ns, "dr-1", "n2", labels, nil)
	h.createPDB(t, ns, "dr", policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(1)),
		Selector: &metav1.LabelSelector{MatchLabels: labels}})
	h.waitStatus(t, ns, "dr", policyv1.PodDisruptionBudgetStatus{ExpectedPods: 2, DesiredHealthy: 1, CurrentHealthy: 2, DisruptionsAllowed: 1})

	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, "kubectl", "drain", "n2", "--ignore-daemonsets", "--delete-emptydir-data", "--force",
		"--kubeconfig", h.env.Kubeconfig, "--timeout", "20s")
	out, err := cmd.CombinedOutput()
	t.Logf("kubectl drain:\n%s", out)
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("kubectl drain should fail on its timeout, got err %v", err)
	}
	if !strings.Contains(string(out), "Cannot evict pod as it would violate the pod's disruption budget") {
		t.Error("kubectl's output does not mention the disruption budget")
	}
	if !strings.Contains(string(out), "pod/dr-0 evicted") && !strings.Contains(string(out), "pod/dr-1 evicted") {
		t.Error("kubectl's output reports no evicted pod")
	}
	h.env.WaitFor(20*time.Second, "one pod left", func(ctx context.Context) (bool, error) {
		list, err := h.env.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		return len(list.Items) == 1 && list.Items[0].DeletionTimestamp == nil, nil
	})
	node, err := h.env.Client.CoreV1().Nodes().Get(ctx, "n2", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !node.Spec.Unschedulable {
		t.Error("drained node is not cordoned")
	}
}
