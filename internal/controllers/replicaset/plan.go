package replicaset

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// BurstReplicas caps how many pods one sync creates or deletes, as
// upstream's controller does (500); the rest wait for the next sync.
var BurstReplicas = 500

// isActive reports whether a pod counts toward the replicas: not being
// deleted and not terminated.
func isActive(p *corev1.Pod) bool {
	return p.DeletionTimestamp == nil && !terminated(p)
}

// isTerminating reports whether a pod is on its way out: being deleted
// but not yet terminated.
func isTerminating(p *corev1.Pod) bool {
	return p.DeletionTimestamp != nil && !terminated(p)
}

func terminated(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

func activePods(pods []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if isActive(p) {
			out = append(out, p)
		}
	}
	return out
}

// terminatingPods are the pods owner controls (by controller reference
// and selector) that are terminating.
func terminatingPods(owner metav1.Object, selector labels.Selector, pods []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if !isTerminating(p) {
			continue
		}
		ref := metav1.GetControllerOfNoCopy(p)
		if ref != nil && ref.UID == owner.GetUID() && selector.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out
}

// diff says how many pods to create (positive) or delete (negative) to go
// from have active pods to want, capped at burst either way.
func diff(have int, want int32, burst int) int {
	d := int(want) - have
	return max(-burst, min(burst, d))
}

// batchSizes splits n calls into batches that start at initial and
// double: 1, 2, 4, ... with the remainder last.
func batchSizes(n, initial int) []int {
	var out []int
	for batch := max(initial, 1); n > 0; batch *= 2 {
		b := min(batch, n)
		out = append(out, b)
		n -= b
	}
	return out
}

// slowStart calls fn n times in batches of growing size (see batchSizes),
// each batch in parallel, and stops after the first batch with a failure,
// so that an owner whose creations all fail (a quota, a bad template)
// sends one request rather than n. It returns how many calls succeeded
// and the first error.
func slowStart(n, initial int, fn func() error) (int, error) {
	ok := 0
	for _, batch := range batchSizes(n, initial) {
		errs := make(chan error, batch)
		var wg sync.WaitGroup
		for range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := fn(); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		ok += batch - len(errs)
		if len(errs) > 0 {
			return ok, <-errs
		}
	}
	return ok, nil
}
