package job

import (
	"slices"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// wantActive is how many pods should run: parallelism, but no more than
// the completions still missing. A job without completions (a work queue)
// starts no new pod once one succeeded and lets the others finish.
func wantActive(j *batchv1.Job, succeeded, active int32, completed, failedIndexes indexSet) int32 {
	parallelism := ptr.Deref(j.Spec.Parallelism, 1)
	if j.Spec.Completions == nil {
		if succeeded > 0 {
			return active
		}
		return parallelism
	}
	remaining := *j.Spec.Completions - succeeded
	if indexed(j) {
		remaining = *j.Spec.Completions - int32(len(completed)) - int32(len(failedIndexes))
	}
	return max(0, min(parallelism, remaining))
}

// deletionOrder sorts pods so the ones to delete first come first: not
// scheduled, then pending, then not ready, then the newest.
func deletionOrder(pods []*corev1.Pod) {
	rank := func(p *corev1.Pod) int {
		switch {
		case p.Spec.NodeName == "":
			return 0
		case p.Status.Phase == corev1.PodPending:
			return 1
		case !ready(p):
			return 2
		}
		return 3
	}
	slices.SortStableFunc(pods, func(a, b *corev1.Pod) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return b.CreationTimestamp.Compare(a.CreationTimestamp.Time)
	})
}

// indexPlan is what an Indexed job does with its running pods: delete
// the ones with a bad, finished or duplicated index, and start the
// lowest missing indexes.
type indexPlan struct {
	remove []*corev1.Pod
	create []int
}

// planIndexes plans for an Indexed job whose running pods are running
// (those terminating included when it only replaces Failed pods) and that
// may run want pods.
func planIndexes(j *batchv1.Job, running []*corev1.Pod, completed, failedIndexes indexSet, want int32) indexPlan {
	var plan indexPlan
	completions := int(ptr.Deref(j.Spec.Completions, 0))
	busy := map[int]*corev1.Pod{}
	for _, p := range running {
		ix := podIndex(p)
		if ix < 0 || ix >= completions || completed[ix] || failedIndexes[ix] || busy[ix] != nil {
			if p.DeletionTimestamp == nil {
				plan.remove = append(plan.remove, p)
			}
			continue
		}
		busy[ix] = p
	}
	// Parallelism went down: stop the highest indexes.
	for ix := completions - 1; ix >= 0 && len(busy) > int(want); ix-- {
		if p := busy[ix]; p != nil {
			if p.DeletionTimestamp == nil {
				plan.remove = append(plan.remove, p)
			}
			delete(busy, ix)
		}
	}
	n := int(want) - len(busy)
	for ix := 0; ix < completions && n > 0; ix++ {
		if busy[ix] == nil && !completed[ix] && !failedIndexes[ix] {
			plan.create = append(plan.create, ix)
			n--
		}
	}
	return plan
}
