package cronjob

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func cronJob(schedule string, created time.Time) *batchv1.CronJob {
	return &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "cj", Namespace: "ns", UID: "u",
		CreationTimestamp: metav1.NewTime(created)}, Spec: batchv1.CronJobSpec{Schedule: schedule}}
}

var t0 = time.Date(2025, 3, 10, 9, 0, 30, 0, time.UTC)

func TestMissedRuns(t *testing.T) {
	for _, tc := range []struct {
		name       string
		schedule   string
		last       *time.Time
		sds        *int64
		now        time.Time
		deadline   bool
		wantLatest time.Time
		wantCount  int
	}{
		{"nothing yet", "*/5 * * * *", nil, nil, t0.Add(time.Minute), false, time.Time{}, 0},
		{"one due", "*/5 * * * *", nil, nil, t0.Add(5 * time.Minute), false, time.Date(2025, 3, 10, 9, 5, 0, 0, time.UTC), 1},
		{"several missed, latest wins", "*/5 * * * *", nil, nil, t0.Add(17 * time.Minute), false, time.Date(2025, 3, 10, 9, 15, 0, 0, time.UTC), 3},
		{"from last schedule", "@hourly", ptr.To(time.Date(2025, 3, 10, 11, 0, 0, 0, time.UTC)), nil,
			time.Date(2025, 3, 10, 13, 30, 0, 0, time.UTC), false, time.Date(2025, 3, 10, 13, 0, 0, 0, time.UTC), 2},
		{"deadline narrows the count", "* * * * *", nil, ptr.To[int64](120), t0.Add(10 * time.Minute), true,
			time.Date(2025, 3, 10, 9, 10, 0, 0, time.UTC), 2},
		{"too many: capped count, exact latest", "* * * * *", nil, nil, t0.Add(1000*time.Hour + 17*time.Second), false,
			time.Date(2025, 4, 21, 1, 0, 0, 0, time.UTC), tooManyMissed + 1},
		{"too many irregular", "30 6-16/4 * * 1-5", nil, nil, time.Date(2025, 9, 13, 12, 0, 0, 0, time.UTC), false,
			time.Date(2025, 9, 12, 14, 30, 0, 0, time.UTC), tooManyMissed + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cj := cronJob(tc.schedule, t0)
			cj.Spec.StartingDeadlineSeconds = tc.sds
			if tc.last != nil {
				cj.Status.LastScheduleTime = &metav1.Time{Time: *tc.last}
			}
			s, err := parseSchedule(cj)
			if err != nil {
				t.Fatal(err)
			}
			m := missedRuns(cj, s, tc.now, tc.deadline)
			if !m.latest.Equal(tc.wantLatest) || m.count != tc.wantCount {
				t.Errorf("missedRuns = %v, %d; want %v, %d", m.latest, m.count, tc.wantLatest, tc.wantCount)
			}
		})
	}
}

func TestTimeZone(t *testing.T) {
	cj := cronJob("0 9 * * *", time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC))
	cj.Spec.TimeZone = ptr.To("America/New_York")
	s, err := parseSchedule(cj)
	if err != nil {
		t.Fatal(err)
	}
	// 09:00 in New York in July is 13:00 UTC (daylight saving time).
	next := s.Next(cj.CreationTimestamp.Time)
	if want := time.Date(2025, 7, 1, 13, 0, 0, 0, time.UTC); !next.Equal(want) {
		t.Errorf("next = %v, want %v", next.UTC(), want)
	}
	cj.Spec.TimeZone = ptr.To("Mars/Olympus")
	if _, err := parseSchedule(cj); err == nil {
		t.Error("unknown time zone accepted")
	}
	cj.Spec.TimeZone = nil
	cj.Spec.Schedule = "61 * * * *"
	if _, err := parseSchedule(cj); err == nil {
		t.Error("bad schedule accepted")
	}
}

func TestTooLate(t *testing.T) {
	cj := cronJob("* * * * *", t0)
	at := time.Date(2025, 3, 10, 9, 1, 0, 0, time.UTC)
	if tooLate(cj, at, at.Add(time.Hour)) {
		t.Error("no deadline is never too late")
	}
	cj.Spec.StartingDeadlineSeconds = ptr.To[int64](10)
	if tooLate(cj, at, at.Add(10*time.Second)) {
		t.Error("at the deadline is still in time")
	}
	if !tooLate(cj, at, at.Add(11*time.Second)) {
		t.Error("past the deadline is too late")
	}
}

func TestJobName(t *testing.T) {
	at := time.Date(2025, 3, 10, 9, 5, 0, 0, time.UTC)
	if got, want := jobName(cronJob("* * * * *", t0), at), "cj-29026625"; got != want {
		t.Errorf("jobName = %q, want %q", got, want)
	}
	j := newJob(cronJob("* * * * *", t0), at)
	if j.Annotations[batchv1.CronJobScheduledTimestampAnnotation] != "2025-03-10T09:05:00Z" {
		t.Errorf("annotations %v", j.Annotations)
	}
	if ref := metav1.GetControllerOf(j); ref == nil || ref.Kind != "CronJob" || ref.UID != "u" {
		t.Errorf("owner %v", ref)
	}
}
