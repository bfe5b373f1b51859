package cronjob

import (
	"context"
	"fmt"
	"slices"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/controllers/ctrl"
)

// sync reconciles one CronJob: its active list with its Jobs, then the
// most recent start time, then the history.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name := ctrl.SplitKey(key)
	if _, err := c.cronJobs.CronJobs(ns).Get(name); apierrors.IsNotFound(err) {
		c.setNext(key, time.Time{})
		return nil
	}
	// A fresh read: a stale status.active could let Forbid start a second
	// Job.
	cj, err := c.client.BatchV1().CronJobs(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		c.setNext(key, time.Time{})
		return nil
	}
	if err != nil {
		return fmt.Errorf("cronjob: get %s: %w", key, err)
	}
	jobs, err := c.ownedJobs(cj)
	if err != nil {
		return err
	}
	now := c.clock.Now()
	next := cj.DeepCopy()
	if err := c.reconcileActive(ctx, next, jobs); err != nil {
		return err
	}
	at, schedErr := c.schedule(ctx, next, jobs, now)
	if !equality.Semantic.DeepEqual(cj.Status, next.Status) {
		if _, err := c.client.BatchV1().CronJobs(ns).UpdateStatus(ctx, next, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("cronjob: update status of %s: %w", key, err)
		}
	}
	if schedErr != nil {
		return schedErr
	}
	if cj.DeletionTimestamp == nil {
		if err := c.cleanupHistory(ctx, next, jobs); err != nil {
			return err
		}
	}
	c.setNext(key, at)
	if !at.IsZero() {
		// A little late, so the start time has surely passed.
		ctrl.Requeue(c.queue, key, at.Sub(now)+100*time.Millisecond)
	}
	return nil
}

// ownedJobs are the Jobs the CronJob controls.
func (c *Controller) ownedJobs(cj *batchv1.CronJob) ([]*batchv1.Job, error) {
	all, err := c.jobs.Jobs(cj.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	var out []*batchv1.Job
	for _, j := range all {
		if ref := metav1.GetControllerOfNoCopy(j); ref != nil && ref.UID == cj.UID {
			out = append(out, j)
		}
	}
	return out, nil
}

// reconcileActive drops finished and vanished Jobs from status.active,
// adds running Jobs it misses, and moves lastSuccessfulTime forward.
func (c *Controller) reconcileActive(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job) error {
	st := &cj.Status
	byUID := map[string]*batchv1.Job{}
	for _, j := range jobs {
		byUID[string(j.UID)] = j
		ct, done := finishedAs(j)
		if ct == batchv1.JobComplete && j.Status.CompletionTime != nil &&
			(st.LastSuccessfulTime == nil || j.Status.CompletionTime.After(st.LastSuccessfulTime.Time)) {
			st.LastSuccessfulTime = j.Status.CompletionTime.DeepCopy()
		}
		i := slices.IndexFunc(st.Active, func(r corev1.ObjectReference) bool { return r.UID == j.UID })
		switch {
		case done && i >= 0:
			st.Active = slices.Delete(st.Active, i, i+1)
			c.recorder.Eventf(cj, corev1.EventTypeNormal, "SawCompletedJob", "Saw completed job: %s, condition: %s", j.Name, ct)
		case !done && i < 0 && j.DeletionTimestamp == nil:
			st.Active = append(st.Active, jobRef(j))
		}
	}
	var keep []corev1.ObjectReference
	for _, r := range st.Active {
		if byUID[string(r.UID)] != nil {
			keep = append(keep, r)
			continue
		}
		// Not in the cache: ask the server before calling it gone.
		j, err := c.client.BatchV1().Jobs(r.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err) || (err == nil && j.UID != r.UID):
			c.recorder.Eventf(cj, corev1.EventTypeNormal, "MissingJob", "Active job went missing: %v", r.Name)
		case err != nil:
			return fmt.Errorf("cronjob: get job %s/%s: %w", r.Namespace, r.Name, err)
		default:
			keep = append(keep, r)
		}
	}
	st.Active = keep
	return nil
}

// finishedAs is the final condition of a finished Job.
func finishedAs(j *batchv1.Job) (batchv1.JobConditionType, bool) {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.Type, true
		}
	}
	return "", false
}

func jobRef(j *batchv1.Job) corev1.ObjectReference {
	return corev1.ObjectReference{Kind: jobKind.Kind, APIVersion: jobKind.GroupVersion().String(),
		Namespace: j.Namespace, Name: j.Name, UID: j.UID, ResourceVersion: j.ResourceVersion}
}

// schedule starts the Job for the most recent missed start time, if the
// policies allow, and returns the next start time (zero: none).
func (c *Controller) schedule(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job, now time.Time) (time.Time, error) {
	if cj.DeletionTimestamp != nil {
		return time.Time{}, nil
	}
	s, err := parseSchedule(cj)
	if err != nil {
		reason := "UnparseableSchedule"
		if cj.Spec.TimeZone != nil {
			if _, lerr := time.LoadLocation(*cj.Spec.TimeZone); lerr != nil {
				reason = "UnknownTimeZone"
			}
		}
		c.recorder.Eventf(cj, corev1.EventTypeWarning, reason, "%v", err)
		return time.Time{}, nil
	}
	nextAt := s.Next(now)
	if ptr.Deref(cj.Spec.Suspend, false) {
		return time.Time{}, nil
	}
	if m := missedRuns(cj, s, now, true); m.count > tooManyMissed {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "TooManyMissedTimes",
			"too many missed start times: %d. Set or decrease .spec.startingDeadlineSeconds or check clock skew", m.count)
	}
	scheduled := missedRuns(cj, s, now, false).latest
	if scheduled.IsZero() {
		return nextAt, nil
	}
	if tooLate(cj, scheduled, now) {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "MissSchedule", "Missed scheduled time to start a job: %s",
			scheduled.UTC().Format(time.RFC1123Z))
		return nextAt, nil
	}
	name := jobName(cj, scheduled)
	if slices.ContainsFunc(jobs, func(j *batchv1.Job) bool { return j.Name == name }) ||
		slices.ContainsFunc(cj.Status.Active, func(r corev1.ObjectReference) bool { return r.Name == name }) {
		setLastSchedule(cj, scheduled)
		return nextAt, nil
	}
	switch cj.Spec.ConcurrencyPolicy {
	case batchv1.ForbidConcurrent:
		if len(cj.Status.Active) > 0 {
			c.recorder.Eventf(cj, corev1.EventTypeNormal, "JobAlreadyActive",
				"Not starting job because prior execution is running and concurrency policy is Forbid")
			return nextAt, nil
		}
	case batchv1.ReplaceConcurrent:
		for len(cj.Status.Active) > 0 {
			r := cj.Status.Active[0]
			if err := c.deleteJob(ctx, cj, r.Namespace, r.Name, r.UID); err != nil {
				return nextAt, err
			}
			cj.Status.Active = cj.Status.Active[1:]
		}
	}
	j, err := c.client.BatchV1().Jobs(cj.Namespace).Create(ctx, newJob(cj, scheduled), metav1.CreateOptions{})
	switch {
	case apierrors.IsAlreadyExists(err):
		// Made by an earlier sync whose status write was lost.
		j, err = c.client.BatchV1().Jobs(cj.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nextAt, fmt.Errorf("cronjob: get job %s/%s: %w", cj.Namespace, name, err)
		}
		if ref := metav1.GetControllerOfNoCopy(j); ref == nil || ref.UID != cj.UID {
			return nextAt, fmt.Errorf("cronjob: job %s/%s exists and is not %s's", cj.Namespace, name, cj.Name)
		}
	case err != nil:
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "FailedCreate", "Error creating job: %v", err)
		return nextAt, fmt.Errorf("cronjob: create job %s/%s: %w", cj.Namespace, name, err)
	default:
		c.recorder.Eventf(cj, corev1.EventTypeNormal, "SuccessfulCreate", "Created job %v", j.Name)
	}
	if _, done := finishedAs(j); !done {
		cj.Status.Active = append(cj.Status.Active, jobRef(j))
	}
	setLastSchedule(cj, scheduled)
	return nextAt, nil
}

func setLastSchedule(cj *batchv1.CronJob, t time.Time) {
	if last := cj.Status.LastScheduleTime; last == nil || last.Time.Before(t) {
		cj.Status.LastScheduleTime = &metav1.Time{Time: t}
	}
}

// newJob is the Job for one start time.
func newJob(cj *batchv1.CronJob, scheduled time.Time) *batchv1.Job {
	t := cj.Spec.JobTemplate.DeepCopy()
	if t.Annotations == nil {
		t.Annotations = map[string]string{}
	}
	t.Annotations[batchv1.CronJobScheduledTimestampAnnotation] = scheduled.Format(time.RFC3339)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: jobName(cj, scheduled), Namespace: cj.Namespace,
			Labels: t.Labels, Annotations: t.Annotations,
			OwnerReferences: []metav1.OwnerReference{ctrl.ControllerRef(cj, cronJobKind)}},
		Spec: t.Spec,
	}
}

// deleteJob deletes one of the CronJob's Jobs (that very one: a Job made
// again under the same name is left alone), its pods in the background.
func (c *Controller) deleteJob(ctx context.Context, cj *batchv1.CronJob, ns, name string, uid types.UID) error {
	policy := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &policy, Preconditions: &metav1.Preconditions{UID: &uid}}
	err := c.client.BatchV1().Jobs(ns).Delete(ctx, name, opts)
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	if err != nil {
		c.recorder.Eventf(cj, corev1.EventTypeWarning, "FailedDelete", "Error deleting job: %v", err)
		return fmt.Errorf("cronjob: delete job %s/%s: %w", ns, name, err)
	}
	c.recorder.Eventf(cj, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted job %v", name)
	return nil
}
