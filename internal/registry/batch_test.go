package registry

import (
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

const jobUID = types.UID("0b9c3b52-7c2e-4a44-9a53-3d2b1c6c7f10")

// mkJob is a job that runs once with restartPolicy Never, as kubectl
// create job makes it, with the UID the server sets before preparing it.
func mkJob(mods ...func(*batchv1.Job)) *batchv1.Job {
	t := wlTemplate(nil)
	t.Spec.RestartPolicy = corev1.RestartPolicyNever
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "pi", Namespace: "default", UID: jobUID},
		Spec:       batchv1.JobSpec{Template: t},
	}
	for _, m := range mods {
		m(j)
	}
	return j
}

func mkCronJob(mods ...func(*batchv1.CronJob)) *batchv1.CronJob {
	t := wlTemplate(nil)
	t.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	c := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: "default"},
		Spec: batchv1.CronJobSpec{Schedule: "*/5 * * * *",
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: t}}},
	}
	for _, m := range mods {
		m(c)
	}
	return c
}

func TestJobDefaults(t *testing.T) {
	r := groupResource(t, "batch/v1", "jobs")
	for name, c := range map[string]struct {
		completions, parallelism         *int32
		wantCompletions, wantParallelism *int32
	}{
		"neither":          {nil, nil, ptr.To[int32](1), ptr.To[int32](1)},
		"parallelism only": {nil, ptr.To[int32](3), nil, ptr.To[int32](3)},
		"completions only": {ptr.To[int32](5), nil, ptr.To[int32](5), ptr.To[int32](1)},
	} {
		j := mkJob(func(j *batchv1.Job) { j.Spec.Completions, j.Spec.Parallelism = c.completions, c.parallelism })
		r.Strategy.Default(j)
		if !ptr.Equal(j.Spec.Completions, c.wantCompletions) || !ptr.Equal(j.Spec.Parallelism, c.wantParallelism) {
			t.Errorf("%s: completions %v parallelism %v", name, ptr.Deref(j.Spec.Completions, -1), ptr.Deref(j.Spec.Parallelism, -1))
		}
	}
	j := mkJob()
	r.Strategy.Default(j)
	s := j.Spec
	if *s.BackoffLimit != 6 || *s.CompletionMode != batchv1.NonIndexedCompletion || *s.Suspend ||
		*s.PodReplacementPolicy != batchv1.TerminatingOrFailed || s.ManualSelector != nil {
		t.Errorf("defaults: %+v", s)
	}
	withPolicy := mkJob(func(j *batchv1.Job) {
		j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
			Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget}}}}}
	})
	r.Strategy.Default(withPolicy)
	if *withPolicy.Spec.PodReplacementPolicy != batchv1.Failed || withPolicy.Spec.PodFailurePolicy.Rules[0].OnPodConditions[0].Status != corev1.ConditionTrue {
		t.Errorf("with pod failure policy: %+v", withPolicy.Spec)
	}
}

func TestJobCreate(t *testing.T) {
	r := groupResource(t, "batch/v1", "jobs")
	j := mkJob(func(j *batchv1.Job) { j.Status.Active = 3 })
	checkErrs(t, "create", strategyCreate(r, j))
	if j.Status.Active != 0 {
		t.Errorf("status not cleared: %+v", j.Status)
	}
	if sel := j.Spec.Selector.MatchLabels; len(sel) != 1 || sel[batchv1.ControllerUidLabel] != string(jobUID) {
		t.Errorf("selector = %v", j.Spec.Selector)
	}
	want := map[string]string{"batch.kubernetes.io/controller-uid": string(jobUID), "batch.kubernetes.io/job-name": "pi",
		"controller-uid": string(jobUID), "job-name": "pi"}
	for k, v := range want {
		if j.Spec.Template.Labels[k] != v || j.Labels[k] != v {
			t.Errorf("label %s: template %q, job %q", k, j.Spec.Template.Labels[k], j.Labels[k])
		}
	}
	own := mkJob(func(j *batchv1.Job) { j.Labels = map[string]string{"team": "a"} })
	strategyCreate(r, own)
	if len(own.Labels) != 1 {
		t.Errorf("job's own labels changed: %v", own.Labels)
	}
}

func TestJobValidation(t *testing.T) {
	r := groupResource(t, "batch/v1", "jobs")
	for name, c := range map[string]struct {
		mod  func(*batchv1.Job)
		want []string
	}{
		"restart unset":  {func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = "" }, []string{"spec.template.spec.restartPolicy: Required value"}},
		"restart Always": {func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways }, []string{"spec.template.spec.restartPolicy: Required value"}},
		"manual, no sel": {func(j *batchv1.Job) { j.Spec.ManualSelector = ptr.To(true) }, []string{"spec.selector: Required value"}},
		"wrong job-name": {func(j *batchv1.Job) { j.Spec.Template.Labels = map[string]string{"job-name": "other"} }, []string{"spec.template.metadata.labels[job-name]: Invalid value"}},
		"negative":       {func(j *batchv1.Job) { j.Spec.Parallelism = ptr.To[int32](-1) }, []string{"spec.parallelism: Invalid value"}},
		"indexed, no cmp": {func(j *batchv1.Job) {
			j.Spec.Parallelism, j.Spec.CompletionMode = ptr.To[int32](2), ptr.To(batchv1.IndexedCompletion)
		}, []string{"spec.completions: Required value"}},
		"per index, nonindexed": {func(j *batchv1.Job) { j.Spec.BackoffLimitPerIndex = ptr.To[int32](1) },
			[]string{"spec.backoffLimitPerIndex: Invalid value"}},
		"failure policy, OnFailure": {func(j *batchv1.Job) {
			j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
			j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{Action: batchv1.PodFailurePolicyActionFailJob,
				OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}}}}}
		}, []string{"spec.template.spec.restartPolicy: Invalid value"}},
		"manual selector": {func(j *batchv1.Job) {
			j.Spec.ManualSelector = ptr.To(true)
			j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "pi"}}
			j.Spec.Template.Labels = map[string]string{"app": "pi"}
		}, nil},
	} {
		checkErrs(t, name, strategyCreate(r, mkJob(c.mod)), c.want...)
	}
}

func TestJobUpdate(t *testing.T) {
	r := groupResource(t, "batch/v1", "jobs")
	old := mkJob(func(j *batchv1.Job) { j.Spec.Completions = ptr.To[int32](3) })
	strategyCreate(r, old)
	suspended := old.DeepCopy()
	suspended.Spec.Suspend = ptr.To(true)
	for name, c := range map[string]struct {
		old  *batchv1.Job
		mod  func(*batchv1.Job)
		want []string
	}{
		"parallelism": {old, func(j *batchv1.Job) { j.Spec.Parallelism = ptr.To[int32](2) }, nil},
		"completions": {old, func(j *batchv1.Job) { j.Spec.Completions = ptr.To[int32](4) }, []string{"spec.completions: Invalid value"}},
		"image":       {old, func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Image = "perl" }, []string{"spec.template: Invalid value"}},
		"selector": {old, func(j *batchv1.Job) { j.Spec.Selector.MatchLabels["x"] = "y"; j.Spec.Template.Labels["x"] = "y" },
			[]string{"spec.selector: Invalid value", "spec.selector: Invalid value", "spec.template: Invalid value"}},
		"suspended node selector": {suspended, func(j *batchv1.Job) { j.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "a"} }, nil},
		"running node selector": {old, func(j *batchv1.Job) { j.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "a"} },
			[]string{"spec.template: Invalid value"}},
	} {
		n := c.old.DeepCopy()
		c.mod(n)
		checkErrs(t, name, strategyUpdate(r, n, c.old), c.want...)
	}
}

func TestJobRow(t *testing.T) {
	r := groupResource(t, "batch/v1", "jobs")
	start := metav1.NewTime(time.Now().Add(-time.Hour))
	done := metav1.NewTime(start.Add(90 * time.Second))
	for name, c := range map[string]struct {
		mod                          func(*batchv1.Job)
		status, completions, elapsed string
	}{
		"running": {func(j *batchv1.Job) { j.Spec.Completions = ptr.To[int32](3); j.Status.Succeeded = 1 }, "Running", "1/3", ""},
		"queue":   {func(j *batchv1.Job) { j.Spec.Parallelism = ptr.To[int32](5) }, "Running", "0/1 of 5", ""},
		"complete": {func(j *batchv1.Job) {
			j.Spec.Completions = ptr.To[int32](1)
			j.Status = batchv1.JobStatus{Succeeded: 1, StartTime: &start, CompletionTime: &done,
				Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}}
		}, "Complete", "1/1", "90s"},
		"suspended": {func(j *batchv1.Job) {
			j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobSuspended, Status: corev1.ConditionTrue}}
		}, "Suspended", "0/1", ""},
	} {
		j := mkJob(c.mod)
		row := r.Strategy.Row(j)
		if row[1] != c.status || row[2] != c.completions || row[3] != c.elapsed {
			t.Errorf("%s: row = %v", name, row)
		}
	}
	if f := r.Strategy.Fields(mkJob(func(j *batchv1.Job) { j.Status.Succeeded = 2 })); f["status.successful"] != "2" {
		t.Errorf("fields = %v", f)
	}
}

func TestCronJob(t *testing.T) {
	r := groupResource(t, "batch/v1", "cronjobs")
	c := mkCronJob()
	checkErrs(t, "create", strategyCreate(r, c))
	s := c.Spec
	if s.ConcurrencyPolicy != batchv1.AllowConcurrent || *s.Suspend || *s.SuccessfulJobsHistoryLimit != 3 || *s.FailedJobsHistoryLimit != 1 {
		t.Errorf("defaults: %+v", s)
	}
	if s.JobTemplate.Spec.Template.Spec.DNSPolicy != corev1.DNSClusterFirst || s.JobTemplate.Spec.BackoffLimit != nil {
		t.Errorf("job template defaults: %+v", s.JobTemplate.Spec)
	}
	for name, cc := range map[string]struct {
		mod  func(*batchv1.CronJob)
		want []string
	}{
		"no schedule":  {func(c *batchv1.CronJob) { c.Spec.Schedule = "" }, []string{"spec.schedule: Required value"}},
		"bad schedule": {func(c *batchv1.CronJob) { c.Spec.Schedule = "every minute" }, []string{"spec.schedule: Invalid value"}},
		"TZ":           {func(c *batchv1.CronJob) { c.Spec.Schedule = "TZ=UTC 0 * * * *" }, []string{"spec.schedule: Invalid value"}},
		"concurrency":  {func(c *batchv1.CronJob) { c.Spec.ConcurrencyPolicy = "Sometimes" }, []string{"spec.concurrencyPolicy: Unsupported value"}},
		"selector":     {func(c *batchv1.CronJob) { c.Spec.JobTemplate.Spec.Selector = &metav1.LabelSelector{} }, []string{"spec.jobTemplate.spec.selector: Invalid value"}},
		"restart": {func(c *batchv1.CronJob) {
			c.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
		}, []string{"spec.jobTemplate.spec.template.spec.restartPolicy: Required value"}},
		"empty zone":    {func(c *batchv1.CronJob) { c.Spec.TimeZone = ptr.To("") }, []string{"spec.timeZone: Invalid value"}},
		"local zone":    {func(c *batchv1.CronJob) { c.Spec.TimeZone = ptr.To("Local") }, []string{"spec.timeZone: Invalid value"}},
		"bad zone":      {func(c *batchv1.CronJob) { c.Spec.TimeZone = ptr.To("../etc") }, []string{"spec.timeZone: Invalid value"}},
		"negative hist": {func(c *batchv1.CronJob) { c.Spec.FailedJobsHistoryLimit = ptr.To[int32](-1) }, []string{"spec.failedJobsHistoryLimit: Invalid value"}},
	} {
		checkErrs(t, name, strategyCreate(r, mkCronJob(cc.mod)), cc.want...)
	}
	if msgs := r.ValidName(strings.Repeat("a", 53), false); len(msgs) != 1 {
		t.Errorf("53-character name: %v", msgs)
	}
	if msgs := r.ValidName(strings.Repeat("a", 52), false); len(msgs) != 0 {
		t.Errorf("52-character name: %v", msgs)
	}
}

func TestCronJobRow(t *testing.T) {
	r := groupResource(t, "batch/v1", "cronjobs")
	c := mkCronJob()
	r.Strategy.Default(c)
	row := r.Strategy.Row(c)
	want := []interface{}{"hello", "*/5 * * * *", "<none>", "False", int64(0), "<none>"}
	for i, w := range want {
		if row[i] != w {
			t.Errorf("cell %d (%s) = %v, want %v", i, r.Strategy.Columns[i].Name, row[i], w)
		}
	}
	last := metav1.NewTime(time.Now().Add(-3 * time.Minute))
	c.Spec.TimeZone = ptr.To("Etc/UTC")
	c.Status = batchv1.CronJobStatus{LastScheduleTime: &last, Active: []corev1.ObjectReference{{Name: "hello-1"}}}
	row = r.Strategy.Row(c)
	if row[2] != "Etc/UTC" || row[4] != int64(1) || row[5] != "3m" {
		t.Errorf("row = %v", row)
	}
}

func TestCronSchedule(t *testing.T) {
	for spec, want := range map[string]string{
		"* * * * *":               "",
		"*/15 0-6,22 1 jan-mar ?": "",
		"0 9 * * MON-FRI":         "",
		"30 2 * * 0":              "",
		"@daily":                  "",
		"@every 1h30m":            "",
		"":                        "empty spec string",
		"* * * *":                 "expected exactly 5 fields, found 4: [* * * *]",
		"60 * * * *":              "end of range (60) above maximum (59): 60",
		"* * 0 * *":               "beginning of range (0) below minimum (1): 0",
		"5-2 * * * *":             "beginning of range (5) beyond end of range (2): 5-2",
		"*/0 * * * *":             "step of range should be a positive number: */0",
		"1-2-3 * * * *":           "too many hyphens: 1-2-3",
		"x * * * *":               `failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax`,
		"* * * * 7":               "end of range (7) above maximum (6): 7",
		"@often":                  "unrecognized descriptor: @often",
	} {
		got := ""
		if err := parseCronSchedule(spec); err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("%q: got %q, want %q", spec, got, want)
		}
	}
}
