package bench_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"skiff.dev/bench"
)

// BenchmarkPodStartup: `skiff up` (API server, scheduler and one agent on
// the process runtime, in its own process) runs b.N pods of `sleep 3600`,
// created by 8 clients; it reports the start-up latency of each (create
// request → Running seen in a watch) and the memory of the skiff process
// and of its process-runtime helpers with every pod running. Run with
// -benchtime 500x.
func BenchmarkPodStartup(b *testing.B) {
	cfg, p := startUp(b)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := b.Context()
	ns := "startup"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	lat, err := bench.PodStartup(ctx, cfg, bench.PodStartupOptions{Namespace: ns, Count: b.N, Clients: 8})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(bench.Ms(lat.Percentile(50)), "p50-ms")
	b.ReportMetric(bench.Ms(lat.Percentile(99)), "p99-ms")
	reportMemory(b, p.Pid(), "skiff")
	b.Logf("pod start-up: %s", lat)
	// Stop the pods before the cluster, so no host process outlives it.
	_ = cs.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	waitNoPods(b, cs, ns)
}

// reportMemory reports the RSS and anonymous memory of pid and, summed, of
// its children (the process runtime's helpers).
func reportMemory(b *testing.B, pid int, name string) {
	b.Helper()
	m, err := bench.ReadMemory(pid)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(m.RSS)/(1<<20), name+"-rss-MB")
	b.ReportMetric(float64(m.Anon)/(1<<20), name+"-anon-MB")
	kids, err := bench.Children(pid)
	if err != nil {
		b.Fatal(err)
	}
	var sum bench.Memory
	for _, k := range kids {
		if km, err := bench.ReadMemory(k); err == nil {
			sum.RSS += km.RSS
			sum.Anon += km.Anon
		}
	}
	b.ReportMetric(float64(sum.RSS)/(1<<20), "helpers-rss-MB")
	b.ReportMetric(float64(sum.Anon)/(1<<20), "helpers-anon-MB")
}

// startUp starts `skiff up` (process runtime) on a fresh data dir and
// waits for its node.
func startUp(b *testing.B) (*rest.Config, *bench.Process) {
	b.Helper()
	return startUpWith(b, "--runtime", "process")
}

// waitNodes waits until n nodes report Ready.
func waitNodes(b *testing.B, cs kubernetes.Interface, n int) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		nodes, err := cs.CoreV1().Nodes().List(b.Context(), metav1.ListOptions{})
		if err == nil {
			ready := 0
			for _, node := range nodes.Items {
				if slices.ContainsFunc(node.Status.Conditions, func(c corev1.NodeCondition) bool {
					return c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue
				}) {
					ready++
				}
			}
			if ready >= n {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Fatalf("fewer than %d nodes became Ready", n)
}

func waitNoPods(b *testing.B, cs kubernetes.Interface, ns string) {
	b.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		pods, err := cs.CoreV1().Pods(ns).List(b.Context(), metav1.ListOptions{})
		if err == nil && len(pods.Items) == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.Errorf("pods in %s were not all deleted", ns)
}

// BenchmarkAgent100Pods: a `skiff server` and a `skiff agent` (process
// runtime) in separate processes; b.N pods of `sleep 3600` bound to the
// agent's node run; it reports the agent's memory with all of them running,
// at least 40 s after the agent started, and the memory of the runtime's
// supervisor. Run with -benchtime 100x.
func BenchmarkAgent100Pods(b *testing.B) {
	cfg, server := startServer(b)
	cs := kubernetes.NewForConfigOrDie(cfg)
	bin, err := skiffBinary()
	if err != nil {
		b.Fatal(err)
	}
	token := filepath.Join(filepath.Dir(server.Kubeconfig), "token")
	dataDir := filepath.Join(b.TempDir(), "agent")
	cmd := exec.Command(bin, "agent", "--server", server.URL, "--token-file", token, "--data-dir", dataDir,
		"--node-name", "bench-node", "--kubelet-port", "0", "--runtime", "process")
	ctx, cancel := context.WithTimeout(b.Context(), time.Minute)
	agent, err := bench.StartProcessUntil(ctx, cmd, dataDir, "node started", nil)
	started := time.Now()
	cancel()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := agent.Stop(30 * time.Second); err != nil {
			b.Errorf("skiff agent: %v", err)
		}
	})
	waitNodes(b, cs, 1)
	ns := "agent"
	if _, err := cs.CoreV1().Namespaces().Create(b.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	lat, err := bench.PodStartup(b.Context(), cfg, bench.PodStartupOptions{Namespace: ns, Count: b.N, NodeName: "bench-node"})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	// Measure the steady state: after the burst, and after the agent's
	// second release of start-up pages (30 s after it starts).
	time.Sleep(max(5*time.Second, time.Until(started.Add(40*time.Second))))
	reportMemory(b, agent.Pid(), "agent")
	b.Logf("pod start-up: %s", lat)
	_ = cs.CoreV1().Pods(ns).DeleteCollection(b.Context(), metav1.DeleteOptions{}, metav1.ListOptions{})
	waitNoPods(b, cs, ns)
}
