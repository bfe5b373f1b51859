package bench_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"skiff.dev/bench"
)

// BenchmarkPodStartupContainerd: `skiff up --runtime cri` (skiff runs
// containerd; CNI bridge networking) runs b.N busybox pods of `sleep 3600`
// created by 8 clients, with the image already present (one pod pulls it
// first); it reports the start-up latency of each (create request →
// Running seen in a watch). Run as root with -benchtime 100x.
func BenchmarkPodStartupContainerd(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("containerd needs root")
	}
	if _, err := exec.LookPath("containerd"); err != nil {
		b.Skip("containerd is not installed")
	}
	cfg, p := startUpWith(b, "--runtime", "cri")
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := b.Context()
	ns := "startup"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	const image = "registry.skiff.local/busybox:1"
	if _, err := bench.PodStartup(ctx, cfg, bench.PodStartupOptions{Namespace: "default", Count: 1, Image: image}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	lat, err := bench.PodStartup(ctx, cfg, bench.PodStartupOptions{Namespace: ns, Count: b.N, Clients: 8, Image: image})
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(bench.Ms(lat.Percentile(50)), "p50-ms")
	b.ReportMetric(bench.Ms(lat.Percentile(99)), "p99-ms")
	b.Logf("pod start-up on containerd: %s", lat)
	for _, n := range []string{ns, "default"} {
		_ = cs.CoreV1().Pods(n).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
		waitNoPods(b, cs, n)
	}
	_ = p
}

// startUpWith is startUp with more flags for `skiff up`.
func startUpWith(b *testing.B, extra ...string) (*rest.Config, *bench.Process) {
	b.Helper()
	bin, err := skiffBinary()
	if err != nil {
		b.Fatal(err)
	}
	dataDir := filepath.Join(b.TempDir(), "data")
	args := append([]string{"up", "--data-dir", dataDir, "--api-port", "0", "--bind-address", "127.0.0.1", "--kubelet-port", "0",
		"--max-pods", "1000"}, extra...)
	ctx, cancel := context.WithTimeout(b.Context(), time.Minute)
	defer cancel()
	p, err := bench.StartProcess(ctx, exec.Command(bin, args...), dataDir, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := p.Stop(30 * time.Second); err != nil {
			b.Errorf("skiff up: %v", err)
		}
	})
	cfg, err := p.Config()
	if err != nil {
		b.Fatal(err)
	}
	waitNodes(b, kubernetes.NewForConfigOrDie(cfg), 1)
	return cfg, p
}
