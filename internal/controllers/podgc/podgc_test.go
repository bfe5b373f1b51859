package podgc

import (
	"context"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"skiff.dev/internal/controllers/ctrl"
	"skiff.dev/internal/controllers/ctrltest"
)

const ns = "default"

func mkNode(t *testing.T, c kubernetes.Interface, name string) {
	t.Helper()
	_, err := c.CoreV1().Nodes().Create(context.Background(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func mkPod(t *testing.T, c kubernetes.Interface, name, node string) *corev1.Pod {
	t.Helper()
	p, err := c.CoreV1().Pods(ns).Create(context.Background(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{NodeName: node,
			Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func podGone(c kubernetes.Interface, name string) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		_, err := c.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	}
}

func mustExist(t *testing.T, c kubernetes.Interface, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := c.CoreV1().Pods(ns).Get(context.Background(), n, metav1.GetOptions{}); err != nil {
			t.Errorf("pod %s: %v", n, err)
		}
	}
}

func TestPodGC(t *testing.T) {
	CheckPeriod, Quarantine = 200*time.Millisecond, time.Second
	env := ctrltest.Start(t, ctrl.Options{TerminatedPodGCThreshold: 2}, nil)
	env.Run(New)
	c := env.Client
	ctx := context.Background()

	t.Run("pods of a deleted node", func(t *testing.T) {
		mkNode(t, c, "ghost")
		p := mkPod(t, c, "orphan", "ghost")
		w, err := c.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=orphan",
			ResourceVersion: p.ResourceVersion})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		var mu sync.Mutex
		var marked bool
		go func() {
			for ev := range w.ResultChan() {
				p, ok := ev.Object.(*corev1.Pod)
				if !ok || ev.Type != watch.Modified || p.Status.Phase != corev1.PodFailed {
					continue
				}
				for _, cond := range p.Status.Conditions {
					if cond.Type == corev1.DisruptionTarget && cond.Status == corev1.ConditionTrue && cond.Reason == "DeletionByPodGC" {
						mu.Lock()
						marked = true
						mu.Unlock()
					}
				}
			}
		}()
		time.Sleep(time.Second)
		mustExist(t, c, "orphan")
		start := time.Now()
		if err := c.CoreV1().Nodes().Delete(ctx, "ghost", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		env.WaitFor(10*time.Second, "pod of the deleted node deleted", podGone(c, "orphan"))
		if d := time.Since(start); d < Quarantine {
			t.Errorf("pod deleted after %v, before the %v quarantine", d, Quarantine)
		}
		time.Sleep(200 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		if !marked {
			t.Error("pod was not marked Failed with DisruptionTarget/DeletionByPodGC before deletion")
		}
	})

	t.Run("terminated pods over the threshold", func(t *testing.T) {
		mkNode(t, c, "n1")
		// Created oldest first in reverse name order, so the oldest is
		// not simply the first name.
		for i, name := range []string{"done-c", "done-b", "done-a"} {
			if i > 0 {
				time.Sleep(1100 * time.Millisecond)
			}
			mkPod(t, c, name, "n1")
		}
		mkPod(t, c, "still-running", "n1")
		for _, name := range []string{"done-a", "done-b", "done-c"} {
			p, err := c.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			p.Status.Phase = corev1.PodSucceeded
			if _, err := c.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		env.WaitFor(10*time.Second, "oldest terminated pod deleted", podGone(c, "done-c"))
		time.Sleep(time.Second)
		mustExist(t, c, "done-a", "done-b", "still-running")
	})
}
