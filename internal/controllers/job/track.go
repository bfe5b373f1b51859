package job

import (
	"slices"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// Finished pods are counted in two steps, so that a pod is counted once
// even if the controller stops half-way or its cache lags: the pod's UID
// is first written to status.uncountedTerminatedPods (an Indexed job's
// successes go straight to status.completedIndexes, which is a set), then
// its batch.kubernetes.io/job-tracking finalizer is removed, then the UID
// moves from uncountedTerminatedPods to status.succeeded or failed. A pod
// with the finalizer that is not in uncountedTerminatedPods is new.

// tracking is what one look at a job's pods found.
type tracking struct {
	// newSucceeded and newFailed are UIDs to add to uncountedTerminatedPods.
	newSucceeded, newFailed []types.UID
	// completed and failedIndexes are indexes to add to the status.
	completed, failedIndexes indexSet
	// release are the pods whose finalizer can go once the status that
	// records them is written.
	release []*corev1.Pod
	// failJob is the first podFailurePolicy FailJob match.
	failJob *policyMatch
	// failures counts new failures (for back-off); successes new successes.
	failures, successes int
}

// track looks at the pods that still carry the tracking finalizer.
// removing holds the UIDs whose finalizer removal was already sent (the
// cache may not show it yet); they are skipped. failing says the job is
// about to fail (it has a FailureTarget condition): its unfinished pods
// are then counted as failed, since they will be deleted.
func track(j *batchv1.Job, pods []*corev1.Pod, removing map[types.UID]bool, failing bool) tracking {
	tr := tracking{completed: indexSet{}, failedIndexes: indexSet{}}
	un := j.Status.UncountedTerminatedPods
	if un == nil {
		un = &batchv1.UncountedTerminatedPods{}
	}
	completions := int(ptr.Deref(j.Spec.Completions, 0))
	done := parseIndexes(j.Status.CompletedIndexes, completions)
	for _, p := range pods {
		if !hasFinalizer(p) || removing[p.UID] {
			continue
		}
		if slices.Contains(un.Succeeded, p.UID) || slices.Contains(un.Failed, p.UID) {
			tr.release = append(tr.release, p)
			continue
		}
		ix := podIndex(p)
		switch {
		case p.Status.Phase == corev1.PodSucceeded:
			tr.successes++
			if !indexed(j) {
				tr.newSucceeded = append(tr.newSucceeded, p.UID)
			} else if ix >= 0 && ix < completions && !done[ix] {
				tr.completed[ix] = true
			}
		case failed(j, p):
			m := (*policyMatch)(nil)
			if p.Status.Phase == corev1.PodFailed {
				m = matchFailurePolicy(j.Spec.PodFailurePolicy, p)
			}
			if m != nil && m.Action == batchv1.PodFailurePolicyActionIgnore {
				break
			}
			if m != nil && m.Action == batchv1.PodFailurePolicyActionFailJob && tr.failJob == nil {
				tr.failJob = m
			}
			if limit := j.Spec.BackoffLimitPerIndex; limit != nil && indexed(j) && ix >= 0 && ix < completions {
				failures := indexFailures([]*corev1.Pod{p})[ix]
				if failures > int(*limit) || (m != nil && m.Action == batchv1.PodFailurePolicyActionFailIndex) {
					tr.failedIndexes[ix] = true
				}
			}
			tr.failures++
			tr.newFailed = append(tr.newFailed, p.UID)
		case failing:
			tr.newFailed = append(tr.newFailed, p.UID)
		default:
			continue
		}
		tr.release = append(tr.release, p)
	}
	return tr
}

// record writes what track found into a status: new UIDs into
// uncountedTerminatedPods, new indexes into the index lists (and an
// Indexed job's succeeded count).
func (tr tracking) record(j *batchv1.Job, st *batchv1.JobStatus) {
	if st.UncountedTerminatedPods == nil {
		st.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
	}
	un := st.UncountedTerminatedPods
	un.Succeeded = append(un.Succeeded, tr.newSucceeded...)
	un.Failed = append(un.Failed, tr.newFailed...)
	if !indexed(j) {
		return
	}
	completions := int(ptr.Deref(j.Spec.Completions, 0))
	done := parseIndexes(st.CompletedIndexes, completions)
	for ix := range tr.completed {
		done[ix] = true
	}
	st.CompletedIndexes = done.String()
	st.Succeeded = int32(len(done))
	if j.Spec.BackoffLimitPerIndex != nil {
		fi := parseIndexes(ptr.Deref(st.FailedIndexes, ""), completions)
		for ix := range tr.failedIndexes {
			fi[ix] = true
		}
		st.FailedIndexes = ptr.To(fi.String())
	}
}

// flush moves the UIDs of pods that no longer hold the finalizer (gone,
// released, or with removal sent) from uncountedTerminatedPods to the
// counters.
func flush(st *batchv1.JobStatus, pods []*corev1.Pod, removing map[types.UID]bool) {
	un := st.UncountedTerminatedPods
	if un == nil {
		return
	}
	held := map[types.UID]bool{}
	for _, p := range pods {
		if hasFinalizer(p) && !removing[p.UID] {
			held[p.UID] = true
		}
	}
	keep := func(uids []types.UID) ([]types.UID, int32) {
		var rest []types.UID
		var moved int32
		for _, u := range uids {
			if held[u] {
				rest = append(rest, u)
			} else {
				moved++
			}
		}
		return rest, moved
	}
	var n int32
	un.Succeeded, n = keep(un.Succeeded)
	st.Succeeded += n
	un.Failed, n = keep(un.Failed)
	st.Failed += n
}

// counted is the job's successes and failures including those still in
// uncountedTerminatedPods.
func counted(st *batchv1.JobStatus) (succeeded, failed int32) {
	succeeded, failed = st.Succeeded, st.Failed
	if un := st.UncountedTerminatedPods; un != nil {
		succeeded += int32(len(un.Succeeded))
		failed += int32(len(un.Failed))
	}
	return succeeded, failed
}
