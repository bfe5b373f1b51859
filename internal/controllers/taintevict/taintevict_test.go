package taintevict_test

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/controllers/ctrl"
	"skiff.dev/internal/controllers/ctrltest"
	"skiff.dev/internal/controllers/taintevict"
)

const broken = "example.com/broken"

func pod(name string, seconds *int64, tolerate bool) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
	if tolerate {
		p.Spec.Tolerations = []corev1.Toleration{{Key: broken, Operator: corev1.TolerationOpExists,
			Effect: corev1.TaintEffectNoExecute, TolerationSeconds: seconds}}
	}
	return p
}

// TestEvictions taints a node (no agent runs on it) NoExecute and checks
// which of its pods are deleted when, that the DisruptionTarget condition
// and the events are there, and that removing the taint cancels a pending
// eviction.
func TestEvictions(t *testing.T) {
	env := ctrltest.Start(t, ctrl.Options{}, nil)
	env.Run(taintevict.New)
	ctx := t.Context()
	pods := env.Client.CoreV1().Pods("default")
	node, err := env.Client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*corev1.Pod{pod("now", nil, false), pod("later", ptr.To[int64](2), true),
		pod("forever", nil, true)} {
		if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// The admission plugin gave each pod the default tolerations.
	forever, err := pods.Get(ctx, "forever", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable} {
		if !slices.ContainsFunc(forever.Spec.Tolerations, func(tol corev1.Toleration) bool {
			return tol.Key == key && tol.Effect == corev1.TaintEffectNoExecute && ptr.Deref(tol.TolerationSeconds, 0) == 300
		}) {
			t.Errorf("pod has no default toleration for %s: %+v", key, forever.Spec.Tolerations)
		}
	}

	node.Spec.Taints = []corev1.Taint{{Key: broken, Effect: corev1.TaintEffectNoExecute}}
	if _, err := env.Client.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	tainted := time.Now()
	env.WaitFor(5*time.Second, "pod now deleted", deleting(pods, "now"))
	if p, err := pods.Get(ctx, "later", metav1.GetOptions{}); err != nil || p.DeletionTimestamp != nil {
		if time.Since(tainted) < 1500*time.Millisecond {
			t.Fatalf("pod later went before its 2 s: %v", err)
		}
	}
	env.WaitFor(10*time.Second, "pod later deleted", deleting(pods, "later"))
	if d := time.Since(tainted); d < 2*time.Second {
		t.Errorf("pod later deleted %v after the taint, before its toleration ran out", d)
	}
	// The untolerating pod is terminating (no agent confirms) and says
	// why.
	if p, err := pods.Get(ctx, "now", metav1.GetOptions{}); err == nil {
		if !slices.ContainsFunc(p.Status.Conditions, func(c corev1.PodCondition) bool {
			return c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue && c.Reason == "DeletionByTaintManager" &&
				c.Message == "Taint manager: deleting due to NoExecute taint"
		}) {
			t.Errorf("pod now has no DisruptionTarget condition: %+v", p.Status.Conditions)
		}
	}
	env.WaitFor(5*time.Second, "eviction event", func(ctx context.Context) (bool, error) {
		evs, err := env.Client.CoreV1().Events("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		return slices.ContainsFunc(evs.Items, func(e corev1.Event) bool {
			return e.Reason == "TaintManagerEviction" && e.Message == "Marking for deletion Pod default/now" &&
				e.Source.Component == "taint-eviction-controller" && e.InvolvedObject.Name == "now"
		}), nil
	})
	if p, err := pods.Get(ctx, "forever", metav1.GetOptions{}); err != nil || p.DeletionTimestamp != nil {
		t.Errorf("pod tolerating the taint forever was deleted (err %v)", err)
	}

	// A pending eviction is cancelled when the taint goes away.
	if _, err := pods.Create(ctx, pod("cancelled", ptr.To[int64](2), true), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	node, err = env.Client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	node.Spec.Taints = nil
	if _, err := env.Client.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if p, err := pods.Get(ctx, "cancelled", metav1.GetOptions{}); err != nil || p.DeletionTimestamp != nil {
		t.Errorf("pod whose taint went away was deleted (err %v)", err)
	}
}

// deleting reports whether a pod is gone or terminating.
func deleting(pods interface {
	Get(context.Context, string, metav1.GetOptions) (*corev1.Pod, error)
}, name string) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		p, err := pods.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		return p.DeletionTimestamp != nil, nil
	}
}
