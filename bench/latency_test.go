package bench

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var l Latencies
	if got := l.Percentile(99); got != 0 {
		t.Errorf("empty: p99 = %v, want 0", got)
	}
	for i := 100; i >= 1; i-- { // 1ms..100ms, added out of order
		l.Add(time.Duration(i) * time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{
		{0, 1 * time.Millisecond},
		{50, 50 * time.Millisecond},
		{90, 90 * time.Millisecond},
		{99, 99 * time.Millisecond},
		{99.5, 100 * time.Millisecond},
		{100, 100 * time.Millisecond},
	} {
		if got := l.Percentile(c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	var m Latencies
	m.Add(500 * time.Millisecond)
	l.Merge(&m)
	if got, want := l.Max(), 500*time.Millisecond; got != want || l.Len() != 101 {
		t.Errorf("after merge: max %v, len %d; want %v, 101", got, l.Len(), want)
	}
}

func TestFieldValue(t *testing.T) {
	line := `time=2026-11-22T10:00:00Z level=INFO msg="API server ready" url=https://127.0.0.1:40123 kubeconfig=/tmp/x`
	if got, want := fieldValue(line, "url"), "https://127.0.0.1:40123"; got != want {
		t.Errorf("url = %q, want %q", got, want)
	}
	if got := fieldValue(line, "port"); got != "" {
		t.Errorf("port = %q, want empty", got)
	}
}
