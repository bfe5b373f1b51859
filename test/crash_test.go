package test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// startSkiff runs the skiff binary as `skiff server` and waits for its
// kubeconfig and a ready API.
func startSkiff(t *testing.T, bin, dir string, port int) (*exec.Cmd, *kubernetes.Clientset) {
	t.Helper()
	cmd := exec.Command(bin, "server", "--data-dir", dir, "--api-port", fmt.Sprint(port), "--bind-address", "127.0.0.1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "API server ready") {
				close(ready)
				break
			}
		}
		for sc.Scan() {
		}
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("skiff server did not become ready")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(dir, "admin.kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 5000, 5000
	cfg.Timeout = 5 * time.Second
	return cmd, kubernetes.NewForConfigOrDie(cfg)
}

// TestKillDuringWrites: kill -9 of the server during a burst of concurrent
// writes loses no write that got a 2xx answer, and none that got a 4xx is
// there after the restart.
func TestKillDuringWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it")
	}
	bin := filepath.Join(t.TempDir(), "skiff")
	build := exec.Command("go", "build", "-o", bin, "../cmd/skiff")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	port := freeTCPPort(t)
	cmd, cs := startSkiff(t, bin, dir, port)

	var mu sync.Mutex
	acked, rejected := map[string]bool{}, map[string]bool{}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				name := fmt.Sprintf("w%d-%d", w, i)
				if i%10 == 9 {
					name = strings.ToUpper(name) // invalid: must be rejected with 422
				}
				_, err := cs.CoreV1().ConfigMaps("default").Create(context.Background(), configMap(name, map[string]string{"i": name}), metav1.CreateOptions{})
				var status apierrors.APIStatus
				mu.Lock()
				switch {
				case err == nil:
					acked[name] = true
				case errors.As(err, &status) && status.Status().Code >= 400 && status.Status().Code < 500:
					rejected[name] = true
				}
				mu.Unlock()
				if err != nil && !errors.As(err, &status) {
					time.Sleep(10 * time.Millisecond) // the server is gone
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	time.Sleep(300 * time.Millisecond)
	stop()
	wg.Wait()
	if len(acked) < 100 || len(rejected) < 10 {
		t.Fatalf("burst too small to mean anything: %d acked, %d rejected", len(acked), len(rejected))
	}

	cmd2, cs2 := startSkiff(t, bin, dir, port)
	defer func() { _ = cmd2.Process.Signal(os.Interrupt); _ = cmd2.Wait() }()
	list, err := cs2.CoreV1().ConfigMaps("default").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	present := map[string]bool{}
	for _, cm := range list.Items {
		present[cm.Name] = true
	}
	for name := range acked {
		if !present[name] {
			t.Errorf("acknowledged write %s is lost", name)
		}
	}
	for name := range rejected {
		if present[name] {
			t.Errorf("rejected write %s is stored", name)
		}
	}
	t.Logf("%d acknowledged writes kept, %d rejected absent, %d stored in all", len(acked), len(rejected), len(present))
}
