package registry

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	batchv1beta1 "k8s.io/api/batch/v1beta1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// maxCronJobName leaves room for the 11 characters of the suffix that job
// names get (a dash and the scheduled time in minutes).
const maxCronJobName = 52

var validTimeZonePart = regexp.MustCompile(`^[A-Za-z\.\-_0-9+]{1,14}$`)

func cronJobName(name string, prefix bool) []string {
	msgs := apivalidation.NameIsDNSSubdomain(name, prefix)
	if len(name) > maxCronJobName {
		msgs = append(msgs, fmt.Sprintf("must be no more than %d characters", maxCronJobName))
	}
	return msgs
}

func cronJobs() Resource {
	spec, status := batchv1beta1.CronJobSpec{}.SwaggerDoc(), batchv1beta1.CronJobStatus{}.SwaggerDoc()
	return Resource{
		Kind: gvk(batchGV, "CronJob"), Name: "cronjobs", Singular: "cronjob",
		ShortNames: []string{"cj"}, Categories: []string{"all"}, Namespaced: true,
		Subresources: []string{"status"}, ValidName: cronJobName,
		Strategy: Strategy{
			HasStatus: true, Generation: true,
			Default: func(obj runtime.Object) {
				s := &obj.(*batchv1.CronJob).Spec
				if s.ConcurrencyPolicy == "" {
					s.ConcurrencyPolicy = batchv1.AllowConcurrent
				}
				if s.Suspend == nil {
					s.Suspend = ptr.To(false)
				}
				if s.SuccessfulJobsHistoryLimit == nil {
					s.SuccessfulJobsHistoryLimit = ptr.To[int32](3)
				}
				if s.FailedJobsHistoryLimit == nil {
					s.FailedJobsHistoryLimit = ptr.To[int32](1)
				}
				defaultPodTemplateSpec(&s.JobTemplate.Spec.Template)
			},
			PrepareForCreate: func(obj runtime.Object) {
				obj.(*batchv1.CronJob).Status = batchv1.CronJobStatus{}
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateCronJobSpec(&obj.(*batchv1.CronJob).Spec, field.NewPath("spec"))
			},
			Columns: append(append([]metav1.TableColumnDefinition{
				nameColumn,
				column("Schedule", "string", spec["schedule"]),
				column("Timezone", "string", spec["timeZone"]),
				column("Suspend", "boolean", spec["suspend"]),
				column("Active", "integer", status["active"]),
				column("Last Schedule", "string", status["lastScheduleTime"]),
				ageColumn,
			}, templateColumns...), selectorColumn(batchv1.JobSpec{}.SwaggerDoc()["selector"])),
			Row: func(obj runtime.Object) []interface{} {
				c := obj.(*batchv1.CronJob)
				last := "<none>"
				if c.Status.LastScheduleTime != nil {
					last = age(*c.Status.LastScheduleTime)
				}
				return append([]interface{}{c.Name, c.Spec.Schedule, ptr.Deref(c.Spec.TimeZone, "<none>"),
					boolPtrCell(c.Spec.Suspend), int64(len(c.Status.Active)), last, age(c.CreationTimestamp)},
					workloadCells(&c.Spec.JobTemplate.Spec.Template, c.Spec.JobTemplate.Spec.Selector, true)...)
			},
		},
	}
}

// validateCronJobSpec checks a cron job's spec. Upstream still lets an old
// cron job keep a TZ= prefix in its schedule; skiff never accepted one, so
// it is refused on update too.
func validateCronJobSpec(s *batchv1.CronJobSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	sp := p.Child("schedule")
	if s.Schedule == "" {
		errs = append(errs, field.Required(sp, ""))
	} else {
		if err := parseCronSchedule(s.Schedule); err != nil {
			errs = append(errs, field.Invalid(sp, s.Schedule, err.Error()))
		}
		if strings.Contains(s.Schedule, "TZ") {
			errs = append(errs, field.Invalid(sp, s.Schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
		}
	}
	if s.StartingDeadlineSeconds != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(*s.StartingDeadlineSeconds, p.Child("startingDeadlineSeconds"))...)
	}
	errs = append(errs, validateTimeZone(s.TimeZone, p.Child("timeZone"))...)
	errs = append(errs, oneOf(p.Child("concurrencyPolicy"), string(s.ConcurrencyPolicy),
		string(batchv1.AllowConcurrent), string(batchv1.ForbidConcurrent), string(batchv1.ReplaceConcurrent))...)

	jp := p.Child("jobTemplate", "spec")
	errs = append(errs, validateJobSpecFields(&s.JobTemplate.Spec, jp)...)
	if sel := s.JobTemplate.Spec.Selector; sel != nil {
		errs = append(errs, field.Invalid(jp.Child("selector"), sel, "`selector` will be auto-generated"))
	}
	if ms := s.JobTemplate.Spec.ManualSelector; ms != nil && *ms {
		errs = append(errs, field.NotSupported(jp.Child("manualSelector"), ms, []string{"nil", "false"}))
	}

	if s.SuccessfulJobsHistoryLimit != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.SuccessfulJobsHistoryLimit), p.Child("successfulJobsHistoryLimit"))...)
	}
	if s.FailedJobsHistoryLimit != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*s.FailedJobsHistoryLimit), p.Child("failedJobsHistoryLimit"))...)
	}
	return errs
}

// validateTimeZone checks an IANA time zone name; it must be known to the
// server's time zone database.
func validateTimeZone(tz *string, p *field.Path) field.ErrorList {
	if tz == nil {
		return nil
	}
	if *tz == "" {
		return field.ErrorList{field.Invalid(p, *tz, "timeZone must be nil or non-empty string")}
	}
	for _, part := range strings.Split(*tz, "/") {
		if part == "." || part == ".." || strings.HasPrefix(part, "-") || !validTimeZonePart.MatchString(part) {
			return field.ErrorList{field.Invalid(p, *tz, fmt.Sprintf("unknown time zone %s", *tz))}
		}
	}
	if strings.EqualFold(*tz, "Local") {
		return field.ErrorList{field.Invalid(p, *tz, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")}
	}
	if _, err := time.LoadLocation(*tz); err != nil {
		return field.ErrorList{field.Invalid(p, *tz, err.Error())}
	}
	return nil
}
