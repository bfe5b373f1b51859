package cronjob

import (
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func finishedJob(name string, ct batchv1.JobConditionType, start int) *batchv1.Job {
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name}}
	j.Status.StartTime = &metav1.Time{Time: t0.Add(time.Duration(start) * time.Minute)}
	if ct != "" {
		j.Status.Conditions = []batchv1.JobCondition{{Type: ct, Status: corev1.ConditionTrue}}
	}
	return j
}

func TestExpired(t *testing.T) {
	cj := cronJob("* * * * *", t0)
	cj.Spec.SuccessfulJobsHistoryLimit, cj.Spec.FailedJobsHistoryLimit = ptr.To[int32](1), ptr.To[int32](0)
	jobs := []*batchv1.Job{
		finishedJob("ok3", batchv1.JobComplete, 3), finishedJob("ok1", batchv1.JobComplete, 1),
		finishedJob("ok2", batchv1.JobComplete, 2), finishedJob("bad", batchv1.JobFailed, 4),
		finishedJob("running", "", 0),
	}
	// Same start time: the name (the scheduled minute) decides.
	jobs[0].Status.StartTime = jobs[2].Status.StartTime
	var got []string
	for _, j := range expired(cj, jobs) {
		got = append(got, j.Name)
	}
	if !slices.Equal(got, []string{"ok1", "ok2", "bad"}) {
		t.Errorf("expired %v, want [ok1 ok2 bad]", got)
	}
	cj.Spec.SuccessfulJobsHistoryLimit, cj.Spec.FailedJobsHistoryLimit = nil, nil
	if n := len(expired(cj, jobs)); n != 0 {
		t.Errorf("no limits expired %d jobs", n)
	}
}
