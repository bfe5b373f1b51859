package bench

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Latencies are samples of one kind of delay. The zero value is empty and
// ready to use; Add and Merge are not safe for concurrent use, so give each
// goroutine its own and merge them at the end.
type Latencies struct {
	samples []time.Duration
	sorted  bool
}

// Add records one sample.
func (l *Latencies) Add(d time.Duration) {
	l.samples = append(l.samples, d)
	l.sorted = false
}

// Merge adds every sample of o.
func (l *Latencies) Merge(o *Latencies) {
	l.samples = append(l.samples, o.samples...)
	l.sorted = false
}

// Len is the number of samples.
func (l *Latencies) Len() int { return len(l.samples) }

// Percentile returns the sample at percentile p (0–100) by the nearest-rank
// method, or 0 without samples.
func (l *Latencies) Percentile(p float64) time.Duration {
	if len(l.samples) == 0 {
		return 0
	}
	if !l.sorted {
		slices.Sort(l.samples)
		l.sorted = true
	}
	rank := int(math.Ceil(p / 100 * float64(len(l.samples))))
	rank = min(max(rank, 1), len(l.samples))
	return l.samples[rank-1]
}

// Max is the largest sample.
func (l *Latencies) Max() time.Duration { return l.Percentile(100) }

// String summarises the samples as p50, p90, p99 and max in milliseconds.
func (l *Latencies) String() string {
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s (%d samples)",
		ms(l.Percentile(50)), ms(l.Percentile(90)), ms(l.Percentile(99)), ms(l.Max()), l.Len())
}

// Ms is d in (fractional) milliseconds, the unit the benchmarks report.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", Ms(d)) }
