package daemonset

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubectl/pkg/util/podutils"
)

// templateGenerationLabel carries, on a daemon pod, the template generation
// of the DaemonSet it was made from (extensions/v1beta1's
// DaemonSetTemplateGenerationKey).
const templateGenerationLabel = "pod-template-generation"

// templateGeneration reads the DaemonSet's template generation, which the
// API server keeps in the deprecated.daemonset.template.generation
// annotation; nil when it is absent or unreadable.
func templateGeneration(ds *appsv1.DaemonSet) *int64 {
	v, ok := ds.Annotations[appsv1.DeprecatedTemplateGeneration]
	if !ok {
		return nil
	}
	gen, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil
	}
	return &gen
}

// isUpdated reports whether pod was made from the current template: its
// revision hash is hash, or its template generation is gen.
func isUpdated(pod *corev1.Pod, hash string, gen *int64) bool {
	if hash != "" && pod.Labels[appsv1.ControllerRevisionHashLabelKey] == hash {
		return true
	}
	return gen != nil && pod.Labels[templateGenerationLabel] == strconv.FormatInt(*gen, 10)
}

// sortOldestFirst orders one node's daemon pods: scheduled ones first, then
// the oldest, then by name.
func sortOldestFirst(pods []*corev1.Pod) {
	slices.SortStableFunc(pods, func(a, b *corev1.Pod) int {
		if sa, sb := a.Spec.NodeName != "", b.Spec.NodeName != ""; sa != sb {
			if sa {
				return -1
			}
			return 1
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			if a.CreationTimestamp.Before(&b.CreationTimestamp) {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// groupByNode maps node names to the daemon pods meant for them. Pods whose
// node cannot be told are left out.
func groupByNode(pods []*corev1.Pod) map[string][]*corev1.Pod {
	out := map[string][]*corev1.Pod{}
	for _, p := range pods {
		node, err := targetNode(p)
		if err != nil {
			continue
		}
		out[node] = append(out[node], p)
	}
	return out
}

// nodePlan is what the core loop does about one node.
type nodePlan struct {
	// create asks for a daemon pod on the node.
	create bool
	// remove are pods to delete: excess, misplaced or finished ones.
	remove []*corev1.Pod
	// failed are Failed pods to delete, subject to a back-off per node.
	failed []*corev1.Pod
}

// planNode decides, from the node, the DaemonSet and the node's daemon pods,
// which pods to create and delete there. surge is whether the update
// strategy allows a new pod beside an old one; hash is the current
// revision; now is for availability.
func planNode(node *corev1.Node, ds *appsv1.DaemonSet, pods []*corev1.Pod, surge bool, hash string, now metav1.Time) nodePlan {
	run, keep := shouldRun(node, ds)
	var plan nodePlan
	switch {
	case run && len(pods) == 0:
		plan.create = true
	case keep:
		var alive []*corev1.Pod
		for _, p := range pods {
			switch {
			case p.DeletionTimestamp != nil:
			case p.Status.Phase == corev1.PodFailed:
				plan.failed = append(plan.failed, p)
			case p.Status.Phase == corev1.PodSucceeded:
				plan.remove = append(plan.remove, p)
			default:
				alive = append(alive, p)
			}
		}
		if !surge || len(alive) <= 1 {
			// Without surge, the oldest pod stays and the rest go. A node
			// left with none gets a new pod on a later sync, once the
			// finished ones are gone.
			if len(alive) == 0 && surge && run {
				plan.create = true
			}
			sortOldestFirst(alive)
			if len(alive) > 1 {
				plan.remove = append(plan.remove, alive[1:]...)
			}
			break
		}
		plan.remove = append(plan.remove, surgeExcess(alive, hash, ds.Spec.MinReadySeconds, now)...)
	case len(pods) > 0:
		for _, p := range pods {
			if p.DeletionTimestamp == nil {
				plan.remove = append(plan.remove, p)
			}
		}
	}
	return plan
}

// surgeExcess picks what goes when surging left several live pods on a
// node: the oldest current pod and the oldest old pod may stay together
// while the current one is not yet available and the old one still ready;
// every other pod goes.
func surgeExcess(alive []*corev1.Pod, hash string, minReady int32, now metav1.Time) []*corev1.Pod {
	sortOldestFirst(alive)
	var remove []*corev1.Pod
	var newest, oldest *corev1.Pod
	for _, p := range alive {
		current := p.Labels[appsv1.ControllerRevisionHashLabelKey] == hash
		switch {
		case current && newest == nil:
			newest = p
		case !current && oldest == nil:
			oldest = p
		default:
			remove = append(remove, p)
		}
	}
	if newest != nil && oldest != nil &&
		(!podutils.IsPodReady(oldest) || podutils.IsPodAvailable(newest, minReady, now)) {
		remove = append(remove, oldest)
	}
	return remove
}

// strandedPods are unscheduled pods meant for nodes that no longer exist:
// no scheduler will place them and the pod GC does not see them.
func strandedPods(nodes []*corev1.Node, byNode map[string][]*corev1.Pod) []*corev1.Pod {
	exists := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		exists[n.Name] = true
	}
	var out []*corev1.Pod
	for name, pods := range byNode {
		if exists[name] {
			continue
		}
		for _, p := range pods {
			if p.Spec.NodeName == "" && p.DeletionTimestamp == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// failedBackoffKey is the back-off entry for failed pods of ds on a node.
func failedBackoffKey(ds *appsv1.DaemonSet, node string) string {
	return fmt.Sprintf("%s/%d/%s", ds.UID, ds.Status.ObservedGeneration, node)
}
