package job

import (
	"sync"
	"time"
)

// BackoffBase is the delay before a failed pod is replaced; it doubles
// with each further failure (without a success in between) up to
// BackoffMax. Tests shorten it.
var (
	BackoffBase = 10 * time.Second
	BackoffMax  = 6 * time.Minute
)

// backoffDelay is the wait after the n-th consecutive failure.
func backoffDelay(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	d := BackoffBase
	for i := 1; i < n && d < BackoffMax; i++ {
		d *= 2
	}
	return min(d, BackoffMax)
}

// backoffs remembers per job how many pods failed since the last success
// and when the last failure was seen. It lives in memory: after a restart
// the controller replaces failed pods without waiting.
type backoffs struct {
	mu sync.Mutex
	m  map[string]backoffRecord
}

type backoffRecord struct {
	failures int
	last     time.Time
}

func (b *backoffs) observe(key string, failures, successes int, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.m[key]
	switch {
	case failures > 0:
		r.failures += failures
		r.last = now
	case successes > 0:
		r = backoffRecord{}
	}
	b.m[key] = r
}

// wait is how long the job must still wait before creating pods.
func (b *backoffs) wait(key string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.m[key]
	return r.last.Add(backoffDelay(r.failures)).Sub(now)
}

func (b *backoffs) forget(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, key)
}
