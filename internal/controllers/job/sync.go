package job

import (
	"context"
	"errors"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/controllers/ctrl"
)

// event is an Event to emit once the status that explains it is written.
type event struct{ kind, reason, msg string }

// sync brings one job a step closer to its spec: it counts finished pods,
// writes the status and conditions, then creates or deletes pods.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name := ctrl.SplitKey(key)
	if _, err := c.jobs.Jobs(ns).Get(name); apierrors.IsNotFound(err) {
		return c.releaseOrphans(ctx, ns, name)
	}
	// The status is read fresh: counting from a stale one could count a
	// pod twice or lose one.
	j, err := c.client.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return c.releaseOrphans(ctx, ns, name)
	}
	if err != nil {
		return fmt.Errorf("job: get %s: %w", key, err)
	}
	if m := j.Spec.ManagedBy; m != nil && *m != batchv1.JobControllerName {
		return nil
	}
	pods, err := c.claim(ctx, j)
	if err != nil {
		return err
	}
	if j.DeletionTimestamp != nil || finished(j) {
		return c.release(ctx, key, pods)
	}
	return c.reconcile(ctx, key, j, pods)
}

func (c *Controller) reconcile(ctx context.Context, key string, j *batchv1.Job, pods []*corev1.Pod) error {
	now := c.clock.Now()
	satisfied := c.expect.Satisfied(key)
	v := interim(j)
	wasFailing := v != nil && v.Type == batchv1.JobFailureTarget
	tr := track(j, pods, c.removing(key), wasFailing)
	next := j.DeepCopy()
	tr.record(next, &next.Status)

	var nActive, nReady, nTerminating int32
	for _, p := range pods {
		switch {
		case active(p):
			nActive++
			if ready(p) {
				nReady++
			}
		case terminating(p):
			nTerminating++
		}
	}
	completions := int(ptr.Deref(j.Spec.Completions, 0))
	completed := parseIndexes(next.Status.CompletedIndexes, completions)
	failedIx := parseIndexes(ptr.Deref(next.Status.FailedIndexes, ""), completions)
	succeeded, failedN := counted(&next.Status)
	suspended := ptr.Deref(j.Spec.Suspend, false)

	var events []event
	if suspended && v == nil {
		if setCondition(next, batchv1.JobSuspended, corev1.ConditionTrue, "JobSuspended", "Job suspended", now) {
			events = append(events, event{corev1.EventTypeNormal, "Suspended", "Job suspended"})
		}
		if nActive == 0 {
			next.Status.StartTime = nil
		}
	} else {
		if hasCondition(next, batchv1.JobSuspended) {
			setCondition(next, batchv1.JobSuspended, corev1.ConditionFalse, "JobResumed", "Job resumed", now)
			events = append(events, event{corev1.EventTypeNormal, "Resumed", "Job resumed"})
			next.Status.StartTime = nil
		}
		if next.Status.StartTime == nil {
			next.Status.StartTime = &metav1.Time{Time: now}
		}
	}
	if v == nil && !suspended {
		v = decide(snapshot{job: next, active: nActive, terminating: nTerminating, succeeded: succeeded, failed: failedN,
			completed: completed, failedIndexes: failedIx, failJob: tr.failJob, now: now,
			completionsNil: j.Spec.Completions == nil, indexedMode: indexed(j)})
		if v != nil {
			setCondition(next, v.Type, corev1.ConditionTrue, v.Reason, v.Message, now)
		}
	}
	next.Status.Active, next.Status.Ready, next.Status.Terminating = nActive, &nReady, &nTerminating

	j, err := c.writeStatus(ctx, j, next)
	if err != nil {
		return err
	}
	c.emit(j, events)
	c.backoff.observe(key, tr.failures, tr.successes, now)
	if err := c.releasePods(ctx, key, tr.release); err != nil {
		return err
	}

	// Count what was released, and finish the job once nothing runs.
	next = j.DeepCopy()
	flush(&next.Status, pods, c.removing(key))
	events = nil
	un := next.Status.UncountedTerminatedPods
	if v != nil && satisfied && nActive == 0 && nTerminating == 0 && (un == nil || len(un.Succeeded)+len(un.Failed) == 0) {
		setCondition(next, v.final(), corev1.ConditionTrue, v.Reason, v.Message, now)
		if v.final() == batchv1.JobComplete {
			next.Status.CompletionTime = &metav1.Time{Time: now}
			events = append(events, event{corev1.EventTypeNormal, "Completed", "Job completed"})
		} else {
			events = append(events, event{corev1.EventTypeWarning, v.Reason, v.Message})
		}
	}
	if j, err = c.writeStatus(ctx, j, next); err != nil {
		return err
	}
	c.emit(j, events)
	if finished(j) || !satisfied {
		return nil
	}
	if v != nil && v.Type == batchv1.JobFailureTarget && !wasFailing {
		// Sync again before deleting: the next look counts the running
		// pods as failed, as they die with the job.
		c.queue.Add(key)
		return nil
	}
	if v != nil || suspended {
		return c.deletePods(ctx, key, j, filter(pods, active))
	}
	if left := deadlineLeft(j, now); j.Spec.ActiveDeadlineSeconds != nil && j.Status.StartTime != nil {
		ctrl.Requeue(c.queue, key, left+10*time.Millisecond)
	}
	return c.manage(ctx, key, j, pods, succeeded, nActive, completed, failedIx, now)
}

// manage creates and deletes pods so that the wanted number run.
func (c *Controller) manage(ctx context.Context, key string, j *batchv1.Job, pods []*corev1.Pod,
	succeeded, nActive int32, completed, failedIx indexSet, now time.Time) error {
	running := filter(pods, func(p *corev1.Pod) bool {
		return active(p) || (onlyReplaceFailed(j) && terminating(p))
	})
	want := wantActive(j, succeeded, nActive, completed, failedIx)
	var remove []*corev1.Pod
	var create []int
	if indexed(j) {
		plan := planIndexes(j, running, completed, failedIx, want)
		remove, create = plan.remove, plan.create
	} else {
		if n := int32(len(running)); n > want {
			cands := filter(running, active)
			deletionOrder(cands)
			remove = cands[:min(int(n-want), len(cands))]
		} else {
			for range want - n {
				create = append(create, -1)
			}
		}
	}
	if len(remove) > 0 {
		return c.deletePods(ctx, key, j, remove)
	}
	if len(create) == 0 {
		return nil
	}
	if wait := c.backoff.wait(key, now); wait > 0 {
		ctrl.Requeue(c.queue, key, wait)
		return nil
	}
	return c.createPods(ctx, key, j, pods, create)
}

// maxBurst caps the pods one sync creates.
const maxBurst = 500

func (c *Controller) createPods(ctx context.Context, key string, j *batchv1.Job, pods []*corev1.Pod, indexes []int) error {
	indexes = indexes[:min(len(indexes), maxBurst)]
	failures := indexFailures(pods)
	c.expect.ExpectCreations(key, len(indexes))
	var errs []error
	for _, ix := range indexes {
		pod := newPod(j, ix, failures[ix])
		got, err := c.client.CoreV1().Pods(j.Namespace).Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			c.expect.CreationObserved(key)
			if !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
				c.recorder.Eventf(j, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
			}
			errs = append(errs, err)
			continue
		}
		c.recorder.Eventf(j, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %s", got.Name)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("job: create pods for %s: %w", key, err)
	}
	return nil
}

// deletePods deletes pods without counting them: the finalizer goes
// first.
func (c *Controller) deletePods(ctx context.Context, key string, j *batchv1.Job, pods []*corev1.Pod) error {
	if len(pods) == 0 {
		return nil
	}
	for _, p := range pods {
		c.expect.ExpectDeletions(key, p.UID)
	}
	var errs []error
	for _, p := range pods {
		err := c.releasePods(ctx, key, []*corev1.Pod{p})
		if err == nil {
			err = c.client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{
				Preconditions: &metav1.Preconditions{UID: &p.UID}})
		}
		if err != nil && !apierrors.IsNotFound(err) {
			c.expect.DeletionObserved(key, p.UID)
			c.recorder.Eventf(j, corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
			errs = append(errs, err)
			continue
		}
		if err == nil {
			c.recorder.Eventf(j, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %s", p.Name)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("job: delete pods of %s: %w", key, err)
	}
	return nil
}

// writeStatus writes next's status when it differs from j's; a conflict
// (j was stale) fails the sync so it runs again on a fresh read.
func (c *Controller) writeStatus(ctx context.Context, j, next *batchv1.Job) (*batchv1.Job, error) {
	if equality.Semantic.DeepEqual(j.Status, next.Status) {
		return j, nil
	}
	got, err := c.client.BatchV1().Jobs(j.Namespace).UpdateStatus(ctx, next, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("job: update status of %s/%s: %w", j.Namespace, j.Name, err)
	}
	return got, nil
}

func (c *Controller) emit(j *batchv1.Job, events []event) {
	for _, e := range events {
		c.recorder.Event(j, e.kind, e.reason, e.msg)
	}
}

// claim returns the pods the job controls, adopting matching orphans.
func (c *Controller) claim(ctx context.Context, j *batchv1.Job) ([]*corev1.Pod, error) {
	sel, err := metav1.LabelSelectorAsSelector(j.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("job: selector of %s/%s: %w", j.Namespace, j.Name, err)
	}
	all, err := c.pods.Pods(j.Namespace).List(labels.Everything())
	if err != nil {
		return nil, err
	}
	get := func(ctx context.Context) (metav1.Object, error) {
		return c.client.BatchV1().Jobs(j.Namespace).Get(ctx, j.Name, metav1.GetOptions{})
	}
	pods, err := ctrl.ClaimPods(ctx, c.client, ctrl.Claim{Owner: j, Kind: jobKind, Selector: sel,
		CanAdopt: ctrl.RecheckOwner(j, get)}, all)
	if err != nil {
		return nil, fmt.Errorf("job: %w", err)
	}
	return pods, nil
}

func filter(pods []*corev1.Pod, keep func(*corev1.Pod) bool) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if keep(p) {
			out = append(out, p)
		}
	}
	return out
}
