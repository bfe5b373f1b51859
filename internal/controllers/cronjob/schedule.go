package cronjob

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
)

// tooManyMissed is how many missed start times make the controller warn
// (and still start only the latest).
const tooManyMissed = 100

// parseSchedule reads a CronJob's standard (five field, or @hourly-style)
// schedule in its time zone: spec.timeZone, or the controller's local
// zone.
func parseSchedule(cj *batchv1.CronJob) (cron.Schedule, error) {
	spec := cj.Spec.Schedule
	if tz := cj.Spec.TimeZone; tz != nil {
		if _, err := time.LoadLocation(*tz); err != nil {
			return nil, fmt.Errorf("cronjob: unknown time zone %s: %w", *tz, err)
		}
		spec = "CRON_TZ=" + *tz + " " + spec
	}
	s, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("cronjob: unparseable schedule %q: %w", cj.Spec.Schedule, err)
	}
	return s, nil
}

// missed is the outcome of looking for start times a CronJob has not run.
type missed struct {
	// latest is the most recent start time not after now; zero when none.
	latest time.Time
	// count is how many start times were missed, capped just above
	// tooManyMissed.
	count int
}

// missedRuns looks for the start times after the CronJob's last run (or
// its creation) up to now. withDeadline leaves out the times older than
// startingDeadlineSeconds.
func missedRuns(cj *batchv1.CronJob, s cron.Schedule, now time.Time, withDeadline bool) missed {
	earliest := cj.CreationTimestamp.Time
	if cj.Status.LastScheduleTime != nil {
		earliest = cj.Status.LastScheduleTime.Time
	}
	if sds := cj.Spec.StartingDeadlineSeconds; sds != nil && withDeadline {
		if d := now.Add(-time.Duration(*sds) * time.Second); d.After(earliest) {
			earliest = d
		}
	}
	var m missed
	for t := s.Next(earliest); !t.IsZero() && !t.After(now); t = s.Next(t) {
		m.latest = t
		m.count++
		if m.count > tooManyMissed {
			m.latest = latestBefore(s, t, now)
			break
		}
	}
	return m
}

// latestBefore finds the last start time not after now when there are too
// many to walk, starting from from (one of them): it looks back from now
// over doubling windows until a window holds a start time, then walks
// that window.
func latestBefore(s cron.Schedule, from, now time.Time) time.Time {
	window := time.Minute
	start := now.Add(-window)
	for start.After(from) {
		if t := s.Next(start); !t.IsZero() && !t.After(now) {
			break
		}
		window *= 2
		start = now.Add(-window)
	}
	if !start.After(from) {
		start = from
	}
	latest := from
	for t := s.Next(start); !t.IsZero() && !t.After(now); t = s.Next(t) {
		latest = t
	}
	return latest
}

// tooLate is whether a start time is past the CronJob's
// startingDeadlineSeconds.
func tooLate(cj *batchv1.CronJob, scheduled, now time.Time) bool {
	sds := cj.Spec.StartingDeadlineSeconds
	return sds != nil && scheduled.Add(time.Duration(*sds)*time.Second).Before(now)
}

// jobName is the name of the Job for a start time: the CronJob's name and
// the time in minutes since the epoch, so one start time makes one Job.
func jobName(cj *batchv1.CronJob, scheduled time.Time) string {
	return fmt.Sprintf("%s-%d", cj.Name, scheduled.Unix()/60)
}
