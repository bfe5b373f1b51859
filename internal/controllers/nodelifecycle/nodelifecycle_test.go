package nodelifecycle_test

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/agent"
	"skiff.dev/internal/controllers/ctrl"
	"skiff.dev/internal/controllers/ctrltest"
	"skiff.dev/internal/controllers/nodelifecycle"
	"skiff.dev/internal/controllers/taintevict"
)

func podOn(node, name string, seconds int64) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "busybox"}},
			Tolerations: []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists,
				Effect: corev1.TaintEffectNoExecute, TolerationSeconds: ptr.To(seconds)}}}}
}

func hasTaint(n *corev1.Node, key string, effect corev1.TaintEffect) bool {
	return slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.Key == key && t.Effect == effect })
}

func readyCondition(n *corev1.Node) corev1.NodeCondition {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c
		}
	}
	return corev1.NodeCondition{}
}

// TestNodeDies stops the agent of one of two nodes and follows what the
// node lifecycle and taint eviction controllers do: the node goes
// Ready=Unknown and is tainted unreachable, its pods go not Ready and are
// evicted as their tolerations say, and the other node is left alone.
func TestNodeDies(t *testing.T) {
	env := ctrltest.Start(t, ctrl.Options{NodeMonitorGracePeriod: 3 * time.Second, NodeMonitorPeriod: 500 * time.Millisecond}, nil)
	env.Run(nodelifecycle.New, taintevict.New)
	nodes := env.SimNodes(func(o *agent.Options) { o.LeaseRenewInterval = 500 * time.Millisecond }, "a", "b")
	ctx := t.Context()
	pods := env.Client.CoreV1().Pods("default")
	// "plain" leaves an unreachable node at once (tolerationSeconds 0
	// stands for no toleration: without one, admission would grant 300 s).
	for _, p := range []*corev1.Pod{podOn("a", "plain", 0), podOn("a", "tolerating", 2), podOn("b", "elsewhere", 0)} {
		if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"plain", "tolerating", "elsewhere"} {
		env.WaitFor(30*time.Second, name+" Ready", func(ctx context.Context) (bool, error) {
			p, err := pods.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			return slices.ContainsFunc(p.Status.Conditions, func(c corev1.PodCondition) bool {
				return c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue
			}), nil
		})
	}
	// Healthy nodes, renewing their leases faster than the grace period,
	// stay untainted across several monitor passes.
	time.Sleep(4 * time.Second)
	for _, name := range []string{"a", "b"} {
		n, err := env.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if readyCondition(n).Status != corev1.ConditionTrue || len(n.Spec.Taints) != 0 {
			t.Fatalf("healthy node %s: Ready %s, taints %v", name, readyCondition(n).Status, n.Spec.Taints)
		}
	}

	nodes[0].Stop()
	stopped := time.Now()
	var taintedAt time.Time
	env.WaitFor(10*time.Second, "node a Unknown and tainted unreachable", func(ctx context.Context) (bool, error) {
		n, err := env.Client.CoreV1().Nodes().Get(ctx, "a", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		ready := readyCondition(n)
		ok := ready.Status == corev1.ConditionUnknown && ready.Reason == "NodeStatusUnknown" &&
			ready.Message == "Kubelet stopped posting node status." &&
			hasTaint(n, corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute) &&
			hasTaint(n, corev1.TaintNodeUnreachable, corev1.TaintEffectNoSchedule)
		if ok {
			taintedAt = time.Now()
			for _, c := range n.Status.Conditions {
				if c.Type == corev1.NodeMemoryPressure || c.Type == corev1.NodeDiskPressure || c.Type == corev1.NodePIDPressure {
					if c.Status != corev1.ConditionUnknown {
						t.Errorf("node a %s = %s, want Unknown", c.Type, c.Status)
					}
				}
			}
		}
		return ok, nil
	})
	if d := taintedAt.Sub(stopped); d < 2*time.Second {
		t.Errorf("node a marked Unknown %v after it stopped, within its 3 s grace period", d)
	}
	if p, err := pods.Get(ctx, "tolerating", metav1.GetOptions{}); (err != nil || p.DeletionTimestamp != nil) && time.Since(taintedAt) < 1500*time.Millisecond {
		t.Errorf("pod tolerating the taint for 2 s went at once (err %v)", err)
	}
	env.WaitFor(5*time.Second, "pod plain evicted", deleting(pods, "plain"))
	env.WaitFor(10*time.Second, "pod tolerating evicted", deleting(pods, "tolerating"))

	// The pods were marked not Ready; they stay (terminating) as no agent
	// confirms their end.
	if p, err := pods.Get(ctx, "tolerating", metav1.GetOptions{}); err == nil {
		if !slices.ContainsFunc(p.Status.Conditions, func(c corev1.PodCondition) bool {
			return c.Type == corev1.PodReady && c.Status == corev1.ConditionFalse
		}) {
			t.Errorf("pod on the dead node still Ready: %+v", p.Status.Conditions)
		}
	}
	env.WaitFor(5*time.Second, "NodeNotReady event", func(ctx context.Context) (bool, error) {
		evs, err := env.Client.CoreV1().Events("").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		return slices.ContainsFunc(evs.Items, func(e corev1.Event) bool {
			return e.Reason == "NodeNotReady" && e.InvolvedObject.Kind == "Node" && e.InvolvedObject.Name == "a" &&
				e.Message == "Node a status is now: NodeNotReady" && e.Source.Component == "node-controller"
		}), nil
	})

	b, err := env.Client.CoreV1().Nodes().Get(ctx, "b", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if readyCondition(b).Status != corev1.ConditionTrue || len(b.Spec.Taints) != 0 {
		t.Errorf("node b: Ready %s, taints %v", readyCondition(b).Status, b.Spec.Taints)
	}
	if p, err := pods.Get(ctx, "elsewhere", metav1.GetOptions{}); err != nil || p.DeletionTimestamp != nil {
		t.Errorf("pod on the healthy node was evicted (err %v)", err)
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
