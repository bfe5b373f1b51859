package nodelifecycle_test

import (
	"context"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/controllers/ctrl"
	"skiff.dev/internal/controllers/ctrltest"
	"skiff.dev/internal/controllers/nodelifecycle"
)

// TestNodeRecovers drives two node objects by hand: "up" renews its Lease,
// "down" goes quiet, is marked Unknown and tainted, then posts Ready
// again and loses the taints; cordoning "up" taints it unschedulable.
func TestNodeRecovers(t *testing.T) {
	env := ctrltest.Start(t, ctrl.Options{NodeMonitorGracePeriod: 2 * time.Second, NodeMonitorPeriod: 300 * time.Millisecond}, nil)
	env.Run(nodelifecycle.New)
	ctx := t.Context()
	nodes := env.Client.CoreV1().Nodes()
	postReady := func(name string) {
		t.Helper()
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			n, err := nodes.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			now := metav1.Now()
			n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
				LastHeartbeatTime: now, LastTransitionTime: now}}
			_, err = nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"up", "down"} {
		if _, err := nodes.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		postReady(name)
	}
	leases := env.Client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	if _, err := leases.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "up"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("up"), RenewTime: &metav1.MicroTime{Time: time.Now()}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	renewCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		for renewCtx.Err() == nil {
			if l, err := leases.Get(renewCtx, "up", metav1.GetOptions{}); err == nil {
				l.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
				_, _ = leases.Update(renewCtx, l, metav1.UpdateOptions{})
			}
			time.Sleep(300 * time.Millisecond)
		}
	}()

	env.WaitFor(8*time.Second, "down Unknown and tainted", func(ctx context.Context) (bool, error) {
		n, err := nodes.Get(ctx, "down", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return readyCondition(n).Status == corev1.ConditionUnknown &&
			hasTaint(n, corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute), nil
	})
	up, err := nodes.Get(ctx, "up", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if readyCondition(up).Status != corev1.ConditionTrue || len(up.Spec.Taints) != 0 {
		t.Fatalf("node renewing its lease: Ready %s, taints %v", readyCondition(up).Status, up.Spec.Taints)
	}

	postReady("down")
	env.WaitFor(5*time.Second, "down untainted", func(ctx context.Context) (bool, error) {
		n, err := nodes.Get(ctx, "down", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return readyCondition(n).Status == corev1.ConditionTrue && len(n.Spec.Taints) == 0, nil
	})

	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		up, err := nodes.Get(ctx, "up", metav1.GetOptions{})
		if err != nil {
			return err
		}
		up.Spec.Unschedulable = true
		_, err = nodes.Update(ctx, up, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	env.WaitFor(5*time.Second, "up tainted unschedulable", func(ctx context.Context) (bool, error) {
		n, err := nodes.Get(ctx, "up", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return hasTaint(n, corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule), nil
	})
}
