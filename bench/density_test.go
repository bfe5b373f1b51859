package bench_test

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"skiff.dev/bench"
)

// BenchmarkDensity: a `skiff server` (API server, scheduler, controller
// manager) and `skiff sim --nodes 50` in separate processes; b.N runs of
// 100 Deployments × 10 replicas each (run with -benchtime 1x). It reports
// the time from the first create until all 1,000 pods are Running, the
// server's CPU seconds over that time, its peak RSS and its anonymous
// memory (heap, stacks) at the end.
func BenchmarkDensity(b *testing.B) {
	const deployments, replicas, nodes = 100, 10, 50
	for range b.N {
		b.StopTimer()
		bin, err := skiffBinary()
		if err != nil {
			b.Fatal(err)
		}
		dataDir := filepath.Join(b.TempDir(), "data")
		cmd := exec.Command(bin, "server", "--data-dir", dataDir, "--api-port", "0", "--bind-address", "127.0.0.1")
		ctx, cancel := context.WithTimeout(b.Context(), time.Minute)
		server, err := bench.StartProcess(ctx, cmd, dataDir, nil)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		simDir := filepath.Join(b.TempDir(), "sim")
		sim := exec.Command(bin, "sim", "--nodes", fmt.Sprint(nodes), "--server", server.URL,
			"--token-file", filepath.Join(dataDir, "token"), "--data-dir", simDir)
		ctx, cancel = context.WithTimeout(b.Context(), time.Minute)
		agents, err := bench.StartProcessUntil(ctx, sim, simDir, "hollow nodes started", nil)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		cfg, err := server.Config()
		if err != nil {
			b.Fatal(err)
		}
		cs := fastClient(b, cfg)
		waitNodes(b, cs, nodes)
		ns := "density"
		if _, err := cs.CoreV1().Namespaces().Create(b.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		cpu := startCPU(b, server)
		start := time.Now()
		b.StartTimer()
		err = createObjects(b.Context(), deployments, func(ctx context.Context, i int) error {
			_, err := cs.AppsV1().Deployments(ns).Create(ctx, densityDeployment(fmt.Sprintf("d-%03d", i), replicas), metav1.CreateOptions{})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		waitRunning(b, cs, ns, deployments*replicas)
		b.StopTimer()
		b.ReportMetric(time.Since(start).Seconds(), "s-to-1000-running")
		serverCPU, err := server.CPUTime()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric((serverCPU - cpu.server).Seconds(), "server-cpu-s")
		m, err := bench.ReadMemory(server.Pid())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(m.Peak)/(1<<20), "server-peak-rss-MB")
		b.ReportMetric(float64(m.Anon)/(1<<20), "server-anon-MB")
		if err := agents.Stop(30 * time.Second); err != nil {
			b.Errorf("skiff sim: %v", err)
		}
		if err := server.Stop(30 * time.Second); err != nil {
			b.Errorf("skiff server: %v", err)
		}
	}
}

func densityDeployment(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "none", Command: []string{"sleep", "3600"},
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("16Mi")}}}}},
			},
		},
	}
}

// waitRunning waits until n pods in ns are Running, listing from the
// watch cache every 200 ms.
func waitRunning(b *testing.B, cs kubernetes.Interface, ns string, n int) {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		pods, err := cs.CoreV1().Pods(ns).List(b.Context(), metav1.ListOptions{FieldSelector: "status.phase=Running", ResourceVersion: "0"})
		if err == nil && len(pods.Items) >= n {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.Fatalf("fewer than %d pods Running within 5 minutes", n)
}
