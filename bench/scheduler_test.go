package bench_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"skiff.dev/bench"
	"skiff.dev/internal/scheduler"
)

var schedProfile = flag.String("schedprofile", "", "write a CPU profile of this process (the scheduler) while it schedules to this file")

// BenchmarkScheduler1000Nodes: the scheduler alone (no agents) places b.N
// pending pods on 1,000 nodes of a `skiff server` in its own process, and
// reports pods bound per second: from Run to the API server's answer to
// the last binding, informer sync included. The pods (100m cpu, 128Mi
// each) and nodes (32 cpu, 128Gi, 110 pods) are created before the
// scheduler starts. Run with -benchtime 10000x:
//
//	go test ./bench -run '^$' -bench Scheduler1000Nodes -benchtime 10000x
//
// load-cpu-us/pod is the scheduler's own CPU per pod (this process does
// nothing else while it runs), server-cpu-us/pod the API server's. With
// -schedprofile FILE the scheduler's CPU profile of the last run goes to
// FILE (and -serverprofile gives the server's, see doc.go).
func BenchmarkScheduler1000Nodes(b *testing.B) {
	const nodes = 1000
	cfg, p := startServer(b)
	cs := fastClient(b, cfg)
	ctx := b.Context()
	if err := createObjects(ctx, nodes, func(ctx context.Context, i int) error {
		_, err := cs.CoreV1().Nodes().Create(ctx, benchNode(fmt.Sprintf("node-%04d", i)), metav1.CreateOptions{})
		return err
	}); err != nil {
		b.Fatal(err)
	}
	if err := createObjects(ctx, b.N, func(ctx context.Context, i int) error {
		_, err := cs.CoreV1().Pods("default").Create(ctx, benchPod(fmt.Sprintf("pod-%06d", i)), metav1.CreateOptions{})
		return err
	}); err != nil {
		b.Fatal(err)
	}
	s, err := scheduler.New(scheduler.Options{Config: cfg})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if *schedProfile != "" {
		f, err := os.Create(*schedProfile)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	cpu := startCPU(b, p)
	b.ResetTimer()
	start := time.Now()
	wg.Go(func() {
		if err := s.Run(runCtx); err != nil {
			b.Error(err)
		}
	})
	for s.Stats().Bound < int64(b.N) {
		if ctx.Err() != nil || time.Since(start) > 10*time.Minute {
			b.Fatalf("gave up: %+v", s.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cpu.report(b, b.N, "pod")
	stop()
	wg.Wait()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "pods-bound/s")
	st := s.Stats()
	b.Logf("%d pods bound on %d nodes in %s: %.0f/s; %+v", b.N, nodes, elapsed.Round(time.Millisecond),
		float64(b.N)/elapsed.Seconds(), st)
	list, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName="})
	if err != nil {
		b.Fatal(err)
	}
	if len(list.Items) > 0 {
		b.Errorf("%d pods are still unbound", len(list.Items))
	}
}

// fastClient is a protobuf clientset without a client-side rate limit.
func fastClient(b *testing.B, base *rest.Config) kubernetes.Interface {
	cfg := rest.CopyConfig(base)
	cfg.QPS, cfg.Burst, cfg.RateLimiter = -1, 0, nil
	cfg.ContentType = bench.Protobuf
	cfg.AcceptContentTypes = bench.Protobuf + "," + bench.JSON
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return cs
}

// createObjects calls create(i) for i in [0, n) from 32 goroutines.
func createObjects(ctx context.Context, n int, create func(context.Context, int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 1)
	for range 32 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := create(ctx, i); err != nil {
					select {
					case errs <- err:
					default:
					}
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

func benchNode(name string) *corev1.Node {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("32"),
		corev1.ResourceMemory: resource.MustParse("128Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity}}
}

func benchPod(name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "pause",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse("100m"),
				corev1.ResourceMemory: resource.MustParse("128Mi"),
			}}}}}}
}
