package daemonset

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/kubectl/pkg/util/podutils"
)

// statusRetries is how many times a status write is retried on a fresh read
// after a conflict, before the sync fails and is re-queued.
const statusRetries = 1

// computeStatus counts, over the nodes, what the DaemonSet's status
// reports. On each node that should run the pod the oldest of its pods
// stands for it. observedGeneration and collisionCount are left as they are.
func computeStatus(ds *appsv1.DaemonSet, nodes []*corev1.Node, byNode map[string][]*corev1.Pod, hash string, now metav1.Time) appsv1.DaemonSetStatus {
	s := ds.Status
	s.DesiredNumberScheduled, s.CurrentNumberScheduled, s.NumberMisscheduled = 0, 0, 0
	s.NumberReady, s.NumberAvailable, s.UpdatedNumberScheduled = 0, 0, 0
	gen := templateGeneration(ds)
	for _, n := range nodes {
		run, _ := shouldRun(n, ds)
		pods := byNode[n.Name]
		if !run {
			if len(pods) > 0 {
				s.NumberMisscheduled++
			}
			continue
		}
		s.DesiredNumberScheduled++
		if len(pods) == 0 {
			continue
		}
		s.CurrentNumberScheduled++
		sorted := append([]*corev1.Pod(nil), pods...)
		sortOldestFirst(sorted)
		pod := sorted[0]
		if podutils.IsPodReady(pod) {
			s.NumberReady++
			if podutils.IsPodAvailable(pod, ds.Spec.MinReadySeconds, now) {
				s.NumberAvailable++
			}
		}
		if isUpdated(pod, hash, gen) {
			s.UpdatedNumberScheduled++
		}
	}
	s.NumberUnavailable = s.DesiredNumberScheduled - s.NumberAvailable
	return s
}

// sameCounts reports whether two statuses agree on every count.
func sameCounts(a, b appsv1.DaemonSetStatus) bool {
	return a.DesiredNumberScheduled == b.DesiredNumberScheduled &&
		a.CurrentNumberScheduled == b.CurrentNumberScheduled &&
		a.NumberMisscheduled == b.NumberMisscheduled &&
		a.NumberReady == b.NumberReady &&
		a.NumberAvailable == b.NumberAvailable &&
		a.NumberUnavailable == b.NumberUnavailable &&
		a.UpdatedNumberScheduled == b.UpdatedNumberScheduled
}

// storeStatus writes the counts of want to the DaemonSet's status, and its
// generation as observed when observe is set. Nothing is written when
// nothing would change.
func storeStatus(ctx context.Context, client kubernetes.Interface, ds *appsv1.DaemonSet, want appsv1.DaemonSetStatus, observe bool) error {
	if sameCounts(ds.Status, want) && ds.Status.ObservedGeneration >= ds.Generation {
		return nil
	}
	dsc := client.AppsV1().DaemonSets(ds.Namespace)
	next := ds.DeepCopy()
	for i := 0; ; i++ {
		collisions := next.Status.CollisionCount
		observed := next.Status.ObservedGeneration
		next.Status = want
		next.Status.CollisionCount = collisions
		next.Status.ObservedGeneration = observed
		if observe {
			next.Status.ObservedGeneration = ds.Generation
		}
		_, err := dsc.UpdateStatus(ctx, next, metav1.UpdateOptions{})
		if err == nil {
			return nil
		}
		if i >= statusRetries {
			return fmt.Errorf("daemonset: update status of %s/%s: %w", ds.Namespace, ds.Name, err)
		}
		if next, err = dsc.Get(ctx, ds.Name, metav1.GetOptions{}); err != nil {
			return fmt.Errorf("daemonset: get %s/%s: %w", ds.Namespace, ds.Name, err)
		}
	}
}
