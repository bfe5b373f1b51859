package job

import (
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Condition messages, as upstream writes them.
const (
	msgBackoffLimit     = "Job has reached the specified backoff limit"
	msgDeadline         = "Job was active longer than specified deadline"
	msgMaxFailedIndexes = "Job has exceeded the specified maximal number of failed indexes"
	msgFailedIndexes    = "Job has failed indexes"
	msgCompletions      = "Reached expected number of succeeded pods"
)

func condition(j *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if j.Status.Conditions[i].Type == t {
			return &j.Status.Conditions[i]
		}
	}
	return nil
}

func hasCondition(j *batchv1.Job, t batchv1.JobConditionType) bool {
	c := condition(j, t)
	return c != nil && c.Status == corev1.ConditionTrue
}

// finished is whether a job has its final Complete or Failed condition.
func finished(j *batchv1.Job) bool {
	return hasCondition(j, batchv1.JobComplete) || hasCondition(j, batchv1.JobFailed)
}

// setCondition sets a condition, moving its transition time only when its
// status changes. It reports whether anything changed.
func setCondition(j *batchv1.Job, t batchv1.JobConditionType, status corev1.ConditionStatus, reason, msg string, now time.Time) bool {
	ts := metav1.NewTime(now)
	c := condition(j, t)
	if c == nil {
		j.Status.Conditions = append(j.Status.Conditions, batchv1.JobCondition{Type: t, Status: status,
			Reason: reason, Message: msg, LastProbeTime: ts, LastTransitionTime: ts})
		return true
	}
	if c.Status == status && c.Reason == reason && c.Message == msg {
		return false
	}
	if c.Status != status {
		c.LastTransitionTime = ts
	}
	c.Status, c.Reason, c.Message, c.LastProbeTime = status, reason, msg, ts
	return true
}

// verdict is an interim condition: the job met its success criteria
// (SuccessCriteriaMet) or its failure criteria (FailureTarget). The final
// Complete or Failed condition with the same reason follows once no pod
// runs or terminates.
type verdict struct {
	Type            batchv1.JobConditionType
	Reason, Message string
}

// snapshot is what the decisions look at: a job whose status already
// includes what tracking found, and its pods' counts.
type snapshot struct {
	job                         *batchv1.Job
	active, terminating         int32
	succeeded, failed           int32
	completed, failedIndexes    indexSet
	failJob                     *policyMatch
	now                         time.Time
	completionsNil, indexedMode bool
}

// decide returns the verdict a job has reached, if any. Failure is looked
// at first: a FailJob rule, the backoff limit, the deadline, then failed
// indexes; success after.
func decide(s snapshot) *verdict {
	j := s.job
	if s.failJob != nil {
		return &verdict{batchv1.JobFailureTarget, batchv1.JobReasonPodFailurePolicy, s.failJob.Message}
	}
	if j.Spec.BackoffLimitPerIndex == nil && s.failed > ptr.Deref(j.Spec.BackoffLimit, 6) {
		return &verdict{batchv1.JobFailureTarget, batchv1.JobReasonBackoffLimitExceeded, msgBackoffLimit}
	}
	if j.Spec.BackoffLimitPerIndex != nil && s.failed > ptr.Deref(j.Spec.BackoffLimit, 1<<31-1) {
		return &verdict{batchv1.JobFailureTarget, batchv1.JobReasonBackoffLimitExceeded, msgBackoffLimit}
	}
	if deadlineLeft(j, s.now) <= 0 {
		return &verdict{batchv1.JobFailureTarget, batchv1.JobReasonDeadlineExceeded, msgDeadline}
	}
	completions := int(ptr.Deref(j.Spec.Completions, 0))
	if m := j.Spec.MaxFailedIndexes; m != nil && len(s.failedIndexes) > int(*m) {
		return &verdict{batchv1.JobFailureTarget, batchv1.JobReasonMaxFailedIndexesExceeded, msgMaxFailedIndexes}
	}
	if s.indexedMode && len(s.failedIndexes) > 0 && len(s.failedIndexes)+len(s.completed) >= completions {
		return &verdict{batchv1.JobFailureTarget, batchv1.JobReasonFailedIndexes, msgFailedIndexes}
	}
	if v := successPolicy(j, s.completed); v != nil {
		return v
	}
	switch {
	case s.indexedMode:
		if len(s.completed) >= completions {
			return &verdict{batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached, msgCompletions}
		}
	case s.completionsNil:
		if s.succeeded > 0 && s.active == 0 {
			return &verdict{batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached, msgCompletions}
		}
	default:
		if s.succeeded >= int32(completions) {
			return &verdict{batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached, msgCompletions}
		}
	}
	return nil
}

// successPolicy checks an Indexed job's successPolicy rules: a rule holds
// when all its succeededIndexes completed (or at least succeededCount of
// them, or of all indexes without a list).
func successPolicy(j *batchv1.Job, completed indexSet) *verdict {
	sp := j.Spec.SuccessPolicy
	if sp == nil || !indexed(j) {
		return nil
	}
	completions := int(ptr.Deref(j.Spec.Completions, 0))
	for i, r := range sp.Rules {
		want := indexSet{}
		if r.SucceededIndexes != nil {
			want = parseIndexes(*r.SucceededIndexes, completions)
		} else {
			for ix := range completions {
				want[ix] = true
			}
		}
		got := 0
		for ix := range want {
			if completed[ix] {
				got++
			}
		}
		need := len(want)
		if r.SucceededCount != nil {
			need = int(*r.SucceededCount)
		}
		if need > 0 && got >= need {
			return &verdict{batchv1.JobSuccessCriteriaMet, batchv1.JobReasonSuccessPolicy,
				fmt.Sprintf("Matched rules at index %d", i)}
		}
	}
	return nil
}

// deadlineLeft is how long a job may still run under
// activeDeadlineSeconds; a large value when it has no deadline or has not
// started.
func deadlineLeft(j *batchv1.Job, now time.Time) time.Duration {
	ads := j.Spec.ActiveDeadlineSeconds
	if ads == nil || j.Status.StartTime == nil {
		return time.Duration(1<<63 - 1)
	}
	return j.Status.StartTime.Add(time.Duration(*ads) * time.Second).Sub(now)
}

// interim is the job's SuccessCriteriaMet or FailureTarget verdict, if one
// is already written.
func interim(j *batchv1.Job) *verdict {
	for _, t := range []batchv1.JobConditionType{batchv1.JobFailureTarget, batchv1.JobSuccessCriteriaMet} {
		if c := condition(j, t); c != nil && c.Status == corev1.ConditionTrue {
			return &verdict{t, c.Reason, c.Message}
		}
	}
	return nil
}

// final is the condition a verdict ends in.
func (v verdict) final() batchv1.JobConditionType {
	if v.Type == batchv1.JobSuccessCriteriaMet {
		return batchv1.JobComplete
	}
	return batchv1.JobFailed
}
