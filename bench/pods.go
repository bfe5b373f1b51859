package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// PodStartupOptions shape a pod start-up run.
type PodStartupOptions struct {
	// Namespace receives the pods; it must exist.
	Namespace string
	// Count pods are created by Clients concurrent clients.
	Count, Clients int
	// Command each pod's one container runs; default sleep for an hour.
	Command []string
	// NodeName, when set, binds the pods to that node without a scheduler.
	NodeName string
	// Image is the containers' image; "none" (for the process runtime) if
	// empty.
	Image string
}

// PodStartup creates Count pods and measures, for each, the time from just
// before its create request to the watch event that shows it Running: the
// Kubernetes pod start-up SLI (scheduling, the agent, the runtime and the
// status write included; no image pulls with the process runtime).
func PodStartup(ctx context.Context, cfg *rest.Config, o PodStartupOptions) (*Latencies, error) {
	if o.Clients <= 0 {
		o.Clients = 8
	}
	if len(o.Command) == 0 {
		o.Command = []string{"sleep", "3600"}
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = -1, 0
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	w, err := cs.CoreV1().Pods(o.Namespace).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	defer w.Stop()

	var mu sync.Mutex
	sent := make(map[string]time.Time, o.Count)
	running := make(map[string]time.Time, o.Count)
	errs := make(chan error, o.Clients)
	next := make(chan int)
	go func() {
		defer close(next)
		for i := range o.Count {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range o.Clients {
		go func() {
			for i := range next {
				name := fmt.Sprintf("start-%05d", i)
				mu.Lock()
				sent[name] = time.Now()
				mu.Unlock()
				if _, err := cs.CoreV1().Pods(o.Namespace).Create(ctx, startupPod(name, o.NodeName, o.Image, o.Command), metav1.CreateOptions{}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	done := 0
	for len(running) < o.Count {
		select {
		case err := <-errs:
			if err != nil {
				return nil, fmt.Errorf("bench: create pod: %w", err)
			}
			done++
		case ev, ok := <-w.ResultChan():
			if !ok {
				return nil, fmt.Errorf("bench: pod watch ended after %d of %d pods ran", len(running), o.Count)
			}
			pod, isPod := ev.Object.(*corev1.Pod)
			if !isPod || ev.Type == watch.Deleted || pod.Status.Phase != corev1.PodRunning {
				continue
			}
			if _, seen := running[pod.Name]; !seen {
				running[pod.Name] = time.Now()
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("bench: %d of %d pods running: %w", len(running), o.Count, ctx.Err())
		}
	}
	lat := &Latencies{}
	mu.Lock()
	defer mu.Unlock()
	for name, at := range running {
		lat.Add(at.Sub(sent[name]))
	}
	return lat, nil
}

func startupPod(name, node, image string, command []string) *corev1.Pod {
	if image == "" {
		image = "none"
	}
	grace := int64(1)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"bench": "startup"}},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: &grace,
			NodeName:                      node,
			Containers:                    []corev1.Container{{Name: "c", Image: image, Command: command}},
		},
	}
}
