package cronjob_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/controllers/cronjob"
	"skiff.dev/internal/controllers/ctrl"
	"skiff.dev/internal/controllers/ctrltest"
)

// TestCronJob drives a CronJob with a fake clock. No Job controller runs:
// the test finishes Jobs itself by writing their status.
func TestCronJob(t *testing.T) {
	clk := testingclock.NewFakeClock(time.Now())
	env := ctrltest.Start(t, ctrl.Options{}, clk)
	env.Run(cronjob.New)
	ctx := context.Background()
	jobs := env.Client.BatchV1().Jobs("default")

	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "tick", Namespace: "default"},
		Spec: batchv1.CronJobSpec{
			Schedule: "* * * * *", ConcurrencyPolicy: batchv1.ForbidConcurrent,
			SuccessfulJobsHistoryLimit: ptr.To[int32](1),
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
				Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
					Containers: []corev1.Container{{Name: "main", Image: "busybox"}}}}}},
		},
	}
	cj, err := env.Client.BatchV1().CronJobs("default").Create(ctx, cj, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Start the fake clock at the CronJob's creation, then move it past
	// the next three whole minutes in turn.
	created := cj.CreationTimestamp.Time
	clk.SetTime(created)
	minute := created.Truncate(time.Minute)
	at := func(n int) time.Time { return minute.Add(time.Duration(n) * time.Minute) }
	name := func(n int) string { return "tick-" + strconv.FormatInt(at(n).Unix()/60, 10) }

	jobNames := func(ctx context.Context) ([]string, error) {
		l, err := jobs.List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		var out []string
		for _, j := range l.Items {
			out = append(out, j.Name)
		}
		slices.Sort(out)
		return out, nil
	}
	waitJobs := func(want ...string) {
		t.Helper()
		env.WaitFor(15*time.Second, "jobs "+strings.Join(want, ","), func(ctx context.Context) (bool, error) {
			got, err := jobNames(ctx)
			return slices.Equal(got, want), err
		})
	}
	complete := func(n string) {
		t.Helper()
		j, err := jobs.Get(ctx, n, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		now := metav1.NewTime(clk.Now())
		j.Status.StartTime, j.Status.CompletionTime, j.Status.Succeeded = &now, &now, 1
		j.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now},
		}
		if _, err := jobs.UpdateStatus(ctx, j, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	// Nothing runs before the first start time.
	time.Sleep(1500 * time.Millisecond)
	if got, _ := jobNames(ctx); len(got) != 0 {
		t.Fatalf("jobs before the schedule: %v", got)
	}

	clk.SetTime(at(1).Add(time.Second))
	waitJobs(name(1))
	j, err := jobs.Get(ctx, name(1), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := j.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; got != at(1).Format(time.RFC3339) {
		t.Errorf("scheduled-timestamp annotation %q, want %q", got, at(1).Format(time.RFC3339))
	}
	env.WaitFor(10*time.Second, "status.active and lastScheduleTime", func(ctx context.Context) (bool, error) {
		cj, err := env.Client.BatchV1().CronJobs("default").Get(ctx, "tick", metav1.GetOptions{})
		return err == nil && len(cj.Status.Active) == 1 && cj.Status.LastScheduleTime != nil &&
			cj.Status.LastScheduleTime.Equal(&metav1.Time{Time: at(1)}), err
	})

	// Forbid: the next start time passes while the first job runs.
	clk.SetTime(at(2).Add(time.Second))
	time.Sleep(2500 * time.Millisecond)
	if got, _ := jobNames(ctx); !slices.Equal(got, []string{name(1)}) {
		t.Fatalf("Forbid started another job: %v", got)
	}

	// Once it finishes, the missed start time runs; when that one
	// finishes too, the history limit of one successful job removes the
	// first.
	complete(name(1))
	waitJobs(name(1), name(2))
	complete(name(2))
	waitJobs(name(2))
	clk.SetTime(at(3).Add(time.Second))
	waitJobs(name(2), name(3))
	complete(name(3))
	waitJobs(name(3))
	env.WaitFor(10*time.Second, "lastSuccessfulTime and empty active", func(ctx context.Context) (bool, error) {
		cj, err := env.Client.BatchV1().CronJobs("default").Get(ctx, "tick", metav1.GetOptions{})
		return err == nil && len(cj.Status.Active) == 0 && cj.Status.LastSuccessfulTime != nil, err
	})
	env.WaitFor(10*time.Second, "events", func(ctx context.Context) (bool, error) {
		evs, err := env.Client.CoreV1().Events("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		seen := map[string]bool{}
		for _, e := range evs.Items {
			if e.Source.Component == cronjob.Name {
				seen[e.Reason+": "+e.Message] = true
			}
		}
		return seen["SuccessfulCreate: Created job "+name(1)] && seen["SuccessfulDelete: Deleted job "+name(1)] &&
			seen["SawCompletedJob: Saw completed job: "+name(1)+", condition: Complete"], nil
	})
}
