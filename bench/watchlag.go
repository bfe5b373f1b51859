package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
)

// sentKey is the ConfigMap data key carrying the writer's clock, in Unix
// nanoseconds, taken just before the update is sent.
const sentKey = "sent"

// WatchOptions shape a watch-lag load: Watchers watch the ConfigMaps of one
// fresh namespace while Writers update Objects of them Updates times in
// all; every watcher must see every update.
type WatchOptions struct {
	// Watchers is the number of watches (client-go Watch, JSON); 0 means 100.
	Watchers int
	// Updates is the number of updates in all; 0 means 10,000.
	Updates int
	// Writers is the number of concurrent writers; 0 means 4.
	Writers int
	// Objects is the number of ConfigMaps updated round-robin; 0 means
	// 4 per writer. Each writer owns its own.
	Objects int
	// Rate caps the updates per second across writers; 0 means as fast as
	// the writers' answers come back.
	Rate float64
	// ConnPerWatcher gives every watcher its own connection instead of the
	// one HTTP/2 connection client-go shares between equal configs.
	ConnPerWatcher bool
	// Timeout bounds the whole load; 0 means 5 minutes.
	Timeout time.Duration
}

// WatchResult is what a watch-lag load measured.
type WatchResult struct {
	Updates, Deliveries int
	// Elapsed runs from the first update sent to the last delivery.
	Elapsed time.Duration
	// Update holds each update's latency as its writer saw it.
	Update Latencies
	// Lag holds, per delivery, the time from the update being sent (the
	// timestamp in the object) to the watcher receiving the decoded event.
	Lag Latencies
}

// String is a one-line summary.
func (r *WatchResult) String() string {
	return fmt.Sprintf("%d updates × %d deliveries in %s (%.0f updates/s): lag %s; update %s",
		r.Updates, r.Deliveries, r.Elapsed.Round(time.Millisecond),
		float64(r.Updates)/r.Elapsed.Seconds(), r.Lag.String(), r.Update.String())
}

// WatchLag runs a watch-lag load against the cluster cfg reaches. It fails
// if a watch ends early or an update fails.
func WatchLag(ctx context.Context, cfg *rest.Config, o WatchOptions) (*WatchResult, error) {
	if o.Watchers <= 0 {
		o.Watchers = 100
	}
	if o.Updates <= 0 {
		o.Updates = 10000
	}
	if o.Writers <= 0 {
		o.Writers = 4
	}
	if o.Objects < o.Writers {
		o.Objects = 4 * o.Writers
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	// The writers' connection is their own, so that a backlog on the
	// watches' connection does not hold back the updates' answers.
	writer, err := newClientset(cfg, clientOptions{ownConn: true})
	if err != nil {
		return nil, err
	}
	ns := "watch-" + utilrand.String(6)
	if err := ensureNamespace(ctx, writer, ns); err != nil {
		return nil, err
	}
	objs := make([]*corev1.ConfigMap, o.Objects)
	for i := range objs {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%d", i)},
			Data: map[string]string{sentKey: "0"}}
		if objs[i], err = writer.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("bench: create: %w", err)
		}
	}
	from := objs[len(objs)-1].ResourceVersion

	watches := make([]watch.Interface, o.Watchers)
	for i := range watches {
		cs, err := newClientset(cfg, clientOptions{ownConn: o.ConnPerWatcher, watch: true})
		if err != nil {
			return nil, err
		}
		watches[i], err = cs.CoreV1().ConfigMaps(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: from})
		if err != nil {
			return nil, fmt.Errorf("bench: watch %d: %w", i, err)
		}
		defer watches[i].Stop()
	}

	lags := make([]Latencies, o.Watchers)
	var watchErr error
	var errOnce sync.Once
	fail := func(err error) { errOnce.Do(func() { watchErr = err; cancel() }) }
	var (
		watchersWG sync.WaitGroup
		lastMu     sync.Mutex
		last       time.Time
	)
	for i, w := range watches {
		watchersWG.Add(1)
		go func() {
			defer watchersWG.Done()
			got := 0
			for got < o.Updates {
				var ev watch.Event
				var ok bool
				select {
				case ev, ok = <-w.ResultChan():
				case <-ctx.Done():
					fail(fmt.Errorf("bench: watcher %d saw %d of %d updates: %w", i, got, o.Updates, ctx.Err()))
					return
				}
				now := time.Now()
				if !ok {
					fail(fmt.Errorf("bench: watcher %d ended after %d of %d updates", i, got, o.Updates))
					return
				}
				cm, isCM := ev.Object.(*corev1.ConfigMap)
				if ev.Type != watch.Modified || !isCM {
					fail(fmt.Errorf("bench: watcher %d got a %s event: %v", i, ev.Type, ev.Object))
					return
				}
				sent, err := strconv.ParseInt(cm.Data[sentKey], 10, 64)
				if err != nil {
					fail(fmt.Errorf("bench: watcher %d: bad %s %q", i, sentKey, cm.Data[sentKey]))
					return
				}
				lags[i].Add(now.Sub(time.Unix(0, sent)))
				got++
			}
			lastMu.Lock()
			last = later(last, time.Now())
			lastMu.Unlock()
		}()
	}

	updates := make([]Latencies, o.Writers)
	var writersWG sync.WaitGroup
	start := time.Now()
	for wi := range o.Writers {
		writersWG.Add(1)
		go func() {
			defer writersWG.Done()
			mine := objs[wi*o.Objects/o.Writers : (wi+1)*o.Objects/o.Writers]
			for k := 0; ; k++ {
				seq := k*o.Writers + wi // this writer's k-th update is update seq overall
				if seq >= o.Updates || ctx.Err() != nil {
					return
				}
				if o.Rate > 0 {
					due := start.Add(time.Duration(float64(seq) / o.Rate * float64(time.Second)))
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
				}
				cm := mine[k%len(mine)].DeepCopy()
				t0 := time.Now()
				cm.Data[sentKey] = strconv.FormatInt(t0.UnixNano(), 10)
				out, err := writer.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
				if err != nil {
					fail(fmt.Errorf("bench: update %d: %w", seq, err))
					return
				}
				updates[wi].Add(time.Since(t0))
				mine[k%len(mine)] = out
			}
		}()
	}
	writersWG.Wait()
	watchersWG.Wait()
	if watchErr != nil {
		return nil, watchErr
	}
	if last.IsZero() {
		return nil, errors.New("bench: no deliveries")
	}
	res := &WatchResult{Updates: o.Updates, Elapsed: last.Sub(start)}
	for i := range updates {
		res.Update.Merge(&updates[i])
	}
	for i := range lags {
		res.Lag.Merge(&lags[i])
	}
	res.Deliveries = res.Lag.Len()
	return res, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
