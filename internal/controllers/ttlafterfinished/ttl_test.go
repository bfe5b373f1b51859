package ttlafterfinished

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
)

func TestDue(t *testing.T) {
	done := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	finishedJob := func(ttl *int32, ct batchv1.JobConditionType) *batchv1.Job {
		j := &batchv1.Job{Spec: batchv1.JobSpec{TTLSecondsAfterFinished: ttl}}
		if ct != "" {
			j.Status.Conditions = []batchv1.JobCondition{{Type: ct, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(done)}}
		}
		return j
	}
	for _, tc := range []struct {
		name     string
		job      *batchv1.Job
		now      time.Time
		wantLeft time.Duration
		wantDue  bool
	}{
		{"no ttl", finishedJob(nil, batchv1.JobComplete), done.Add(time.Hour), 0, false},
		{"not finished", finishedJob(ptr.To[int32](0), ""), done.Add(time.Hour), 0, false},
		{"waiting", finishedJob(ptr.To[int32](100), batchv1.JobComplete), done.Add(40 * time.Second), 60 * time.Second, false},
		{"failed job expires too", finishedJob(ptr.To[int32](100), batchv1.JobFailed), done.Add(100 * time.Second), 0, true},
		{"zero ttl", finishedJob(ptr.To[int32](0), batchv1.JobComplete), done, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Controller{clock: testingclock.NewFakeClock(tc.now)}
			left, due := c.due(tc.job)
			if left != tc.wantLeft || due != tc.wantDue {
				t.Errorf("due = %v, %v; want %v, %v", left, due, tc.wantLeft, tc.wantDue)
			}
		})
	}
}
