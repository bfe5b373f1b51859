package cronjob

import (
	"context"
	"slices"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/utils/ptr"
)

// expired picks the finished Jobs beyond the history limits: the oldest
// successful ones past successfulJobsHistoryLimit and the oldest failed
// ones past failedJobsHistoryLimit. A nil limit keeps all.
func expired(cj *batchv1.CronJob, jobs []*batchv1.Job) []*batchv1.Job {
	var ok, bad []*batchv1.Job
	for _, j := range jobs {
		if j.DeletionTimestamp != nil {
			continue
		}
		switch t, done := finishedAs(j); {
		case !done:
		case t == batchv1.JobComplete:
			ok = append(ok, j)
		default:
			bad = append(bad, j)
		}
	}
	var out []*batchv1.Job
	for _, g := range []struct {
		jobs  []*batchv1.Job
		limit *int32
	}{{ok, cj.Spec.SuccessfulJobsHistoryLimit}, {bad, cj.Spec.FailedJobsHistoryLimit}} {
		if g.limit == nil || len(g.jobs) <= int(*g.limit) {
			continue
		}
		slices.SortFunc(g.jobs, olderFirst)
		out = append(out, g.jobs[:len(g.jobs)-int(ptr.Deref(g.limit, 0))]...)
	}
	return out
}

// olderFirst orders Jobs by start time, then by name (which holds the
// scheduled minute).
func olderFirst(a, b *batchv1.Job) int {
	if c := startOf(a).Compare(startOf(b)); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

// startOf orders Jobs by start time, falling back on creation.
func startOf(j *batchv1.Job) time.Time {
	if j.Status.StartTime != nil {
		return j.Status.StartTime.Time
	}
	return j.CreationTimestamp.Time
}

// cleanupHistory deletes the Jobs beyond the history limits.
func (c *Controller) cleanupHistory(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job) error {
	for _, j := range expired(cj, jobs) {
		if err := c.deleteJob(ctx, cj, j.Namespace, j.Name, j.UID); err != nil {
			return err
		}
	}
	return nil
}
