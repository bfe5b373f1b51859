package test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	skiffnode "skiff.dev/internal/node"
	"skiff.dev/testenv"
)

// TestThreeAgentsSpreadPods: three agents (hollow nodes on the sim runtime,
// each joined with the cluster's token) and the control plane's scheduler
// run 300 pods. LeastAllocated spreads them evenly, no node is given more
// than its allocatable, and every pod runs.
func TestThreeAgentsSpreadPods(t *testing.T) {
	env := testenv.Start(t)
	cs := kubernetes.NewForConfigOrDie(env.Config)
	ctx := t.Context()
	token, err := os.ReadFile(filepath.Join(env.DataDir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("4"),
		corev1.ResourceMemory: resource.MustParse("16Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	nodeCtx, stopNodes := context.WithCancel(ctx)
	var nodes []*skiffnode.Node
	for i := range 3 {
		n, err := skiffnode.Start(nodeCtx, skiffnode.Options{Server: env.Server.URL(), Token: string(token),
			NodeName: fmt.Sprintf("spread-%d", i), DataDir: t.TempDir(), Runtime: skiffnode.RuntimeSim,
			KubeletPort: -1, Capacity: capacity})
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	t.Cleanup(func() {
		stopNodes()
		for _, n := range nodes {
			_ = n.Wait()
		}
	})
	pollFor(t, time.Minute, "3 Ready nodes", func() (bool, error) {
		list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		ready := 0
		for _, n := range list.Items {
			for _, c := range n.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		return ready == 3, nil
	})

	const pods = 300
	for i := range pods {
		cpu := "20m"
		if i%2 == 1 {
			cpu = "40m"
		}
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p-%03d", i)},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "none", Command: []string{"sleep", "inf"},
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse("64Mi")}}}}},
		}
		if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var list *corev1.PodList
	pollFor(t, 2*time.Minute, "300 Running pods", func() (bool, error) {
		list, err = cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		running := 0
		for _, p := range list.Items {
			if p.Status.Phase == corev1.PodRunning {
				running++
			}
		}
		return running == pods, nil
	})

	count := map[string]int{}
	cpu := map[string]*resource.Quantity{}
	for _, p := range list.Items {
		n := p.Spec.NodeName
		count[n]++
		if cpu[n] == nil {
			cpu[n] = resource.NewMilliQuantity(0, resource.DecimalSI)
		}
		cpu[n].Add(p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU])
	}
	if len(count) != 3 {
		t.Fatalf("pods landed on %d nodes, want all 3: %v", len(count), count)
	}
	for name, c := range count {
		n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		alloc := n.Status.Allocatable
		if cpu[name].Cmp(alloc[corev1.ResourceCPU]) > 0 || int64(c) > alloc.Pods().Value() {
			t.Errorf("node %s got %d pods and %s cpu, over its allocatable %s cpu, %s pods",
				name, c, cpu[name], alloc.Cpu(), alloc.Pods())
		}
		// An even split is 100 each; LeastAllocated keeps every node close.
		if c < 85 || c > 115 {
			t.Errorf("node %s got %d of 300 pods; LeastAllocated should spread them evenly: %v", name, c, count)
		}
	}
	t.Logf("pods per node: %v", count)
}
