package registry

import (
	"fmt"
	"maps"
	"math"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// The labels a Job's pods carry besides the batch.kubernetes.io ones, kept
// by upstream for older clients.
const (
	legacyJobNameLabel       = "job-name"
	legacyControllerUIDLabel = "controller-uid"
)

var batchGV = batchv1.SchemeGroupVersion

// jobs run pods to completion. Unless the job asks for a manual selector,
// the server generates a selector on the job's UID and the matching
// template labels when the job is created.
func jobs() Resource {
	return Resource{
		Kind: gvk(batchGV, "Job"), Name: "jobs", Singular: "job",
		Categories: []string{"all"}, Namespaced: true, Subresources: []string{"status"},
		Strategy: Strategy{
			HasStatus: true, Generation: true,
			Default:          func(obj runtime.Object) { defaultJob(obj.(*batchv1.Job)) },
			PrepareForCreate: func(obj runtime.Object) { prepareJob(obj.(*batchv1.Job)) },
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateJob(obj.(*batchv1.Job))
			},
			ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
				return validateJobUpdate(obj.(*batchv1.Job), old.(*batchv1.Job))
			},
			ValidateStatusUpdate: func(obj, _ runtime.Object) field.ErrorList {
				s := &obj.(*batchv1.Job).Status
				return validateCounts(field.NewPath("status"), statusCount{"active", int64(s.Active)},
					statusCount{"succeeded", int64(s.Succeeded)}, statusCount{"failed", int64(s.Failed)},
					statusCount{"ready", optionalCount(s.Ready)}, statusCount{"terminating", optionalCount(s.Terminating)})
			},
			Columns: append(append([]metav1.TableColumnDefinition{
				nameColumn,
				column("Status", "string", "Status of the job."),
				column("Completions", "string", batchv1.JobStatus{}.SwaggerDoc()["succeeded"]),
				column("Duration", "string", "Time required to complete the job."),
				ageColumn,
			}, templateColumns...), selectorColumn(batchv1.JobSpec{}.SwaggerDoc()["selector"])),
			Row: func(obj runtime.Object) []interface{} {
				j := obj.(*batchv1.Job)
				return append([]interface{}{j.Name, jobStatus(j), jobCompletions(j), jobDuration(j), age(j.CreationTimestamp)},
					workloadCells(&j.Spec.Template, j.Spec.Selector, true)...)
			},
			Fields: func(obj runtime.Object) fields.Set {
				return fields.Set{"status.successful": strconv.Itoa(int(obj.(*batchv1.Job).Status.Succeeded))}
			},
		},
	}
}

func defaultJob(j *batchv1.Job) {
	s := &j.Spec
	// A job with neither completions nor parallelism runs one pod to
	// completion; parallelism alone means a work queue.
	if s.Completions == nil && s.Parallelism == nil {
		s.Completions = ptr.To[int32](1)
	}
	if s.Parallelism == nil {
		s.Parallelism = ptr.To[int32](1)
	}
	if s.BackoffLimit == nil {
		s.BackoffLimit = ptr.To[int32](6)
		if s.BackoffLimitPerIndex != nil {
			s.BackoffLimit = ptr.To[int32](math.MaxInt32)
		}
	}
	if s.CompletionMode == nil {
		s.CompletionMode = ptr.To(batchv1.NonIndexedCompletion)
	}
	if s.Suspend == nil {
		s.Suspend = ptr.To(false)
	}
	if pfp := s.PodFailurePolicy; pfp != nil {
		for _, r := range pfp.Rules {
			for i := range r.OnPodConditions {
				if r.OnPodConditions[i].Status == "" {
					r.OnPodConditions[i].Status = corev1.ConditionTrue
				}
			}
		}
	}
	if s.PodReplacementPolicy == nil {
		s.PodReplacementPolicy = ptr.To(batchv1.TerminatingOrFailed)
		if s.PodFailurePolicy != nil {
			s.PodReplacementPolicy = ptr.To(batchv1.Failed)
		}
	}
	if len(j.Labels) == 0 && len(s.Template.Labels) > 0 {
		j.Labels = maps.Clone(s.Template.Labels)
	}
	defaultPodTemplateSpec(&s.Template)
}

// prepareJob clears the status and generates the selector and the template
// labels. A job whose labels were copied from the template gets the
// generated labels too, as upstream's jobs end up with.
func prepareJob(j *batchv1.Job) {
	j.Status = batchv1.JobStatus{}
	if ptr.Deref(j.Spec.ManualSelector, false) {
		return
	}
	labelsFromTemplate := len(j.Labels) == 0 || maps.Equal(j.Labels, j.Spec.Template.Labels)
	t := &j.Spec.Template
	if t.Labels == nil {
		t.Labels = map[string]string{}
	}
	// Labels the user set are kept; a wrong value fails validation.
	for _, l := range []struct{ key, value string }{
		{legacyJobNameLabel, j.Name}, {batchv1.JobNameLabel, j.Name},
		{legacyControllerUIDLabel, string(j.UID)}, {batchv1.ControllerUidLabel, string(j.UID)},
	} {
		if _, ok := t.Labels[l.key]; !ok {
			t.Labels[l.key] = l.value
		}
	}
	if j.Spec.Selector == nil {
		j.Spec.Selector = &metav1.LabelSelector{}
	}
	if j.Spec.Selector.MatchLabels == nil {
		j.Spec.Selector.MatchLabels = map[string]string{}
	}
	if _, ok := j.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel]; !ok {
		j.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel] = string(j.UID)
	}
	if labelsFromTemplate {
		j.Labels = maps.Clone(t.Labels)
	}
}

func hasJobCondition(j *batchv1.Job, t batchv1.JobConditionType) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// jobStatus is the Status column: the condition that best sums up the job.
func jobStatus(j *batchv1.Job) string {
	switch {
	case hasJobCondition(j, batchv1.JobComplete):
		return "Complete"
	case hasJobCondition(j, batchv1.JobFailed):
		return "Failed"
	case j.DeletionTimestamp != nil:
		return "Terminating"
	case hasJobCondition(j, batchv1.JobSuspended):
		return "Suspended"
	case hasJobCondition(j, batchv1.JobFailureTarget):
		return "FailureTarget"
	case hasJobCondition(j, batchv1.JobSuccessCriteriaMet):
		return "SuccessCriteriaMet"
	}
	return "Running"
}

// jobCompletions is the Completions column: "1/3", or "0/1 of 5" for a work
// queue of five parallel pods.
func jobCompletions(j *batchv1.Job) string {
	if j.Spec.Completions != nil {
		return fmt.Sprintf("%d/%d", j.Status.Succeeded, *j.Spec.Completions)
	}
	if p := ptr.Deref(j.Spec.Parallelism, 0); p > 1 {
		return fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, p)
	}
	return fmt.Sprintf("%d/1", j.Status.Succeeded)
}

func jobDuration(j *batchv1.Job) string {
	switch {
	case j.Status.StartTime == nil:
		return ""
	case j.Status.CompletionTime == nil:
		return duration.HumanDuration(time.Since(j.Status.StartTime.Time))
	}
	return duration.HumanDuration(j.Status.CompletionTime.Sub(j.Status.StartTime.Time))
}
