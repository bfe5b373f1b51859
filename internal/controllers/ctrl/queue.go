package ctrl

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
)

// Queue is a rate-limited workqueue of namespace/name keys.
type Queue = workqueue.TypedRateLimitingInterface[string]

// NewQueue makes a queue with upstream controllers' rate limiting: per-key
// exponential back-off from 5 ms to 1000 s, and an overall token bucket.
func NewQueue(name string) Queue {
	return workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: name})
}

// Key is the namespace/name key of an object, also of the tombstones an
// informer hands to delete handlers.
func Key(obj any) (string, bool) {
	k, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	return k, err == nil
}

// Enqueue adds the key of obj to q.
func Enqueue(q Queue, obj any) {
	if k, ok := Key(obj); ok {
		q.Add(k)
	}
}

// Object unwraps an informer's delete tombstone.
func Object(obj any) (metav1.Object, bool) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	m, err := meta.Accessor(obj)
	return m, err == nil
}

// SplitKey splits a namespace/name key.
func SplitKey(key string) (namespace, name string) {
	namespace, name, _ = cache.SplitMetaNamespaceKey(key)
	return namespace, name
}

// Workers runs n workers over q until ctx ends, calling sync for each key.
// A sync error re-queues the key with back-off; success forgets it.
// Run returns after the queue is shut down and the workers have stopped.
func Workers(ctx context.Context, q Queue, n int, log *slog.Logger, syncKey func(context.Context, string) error) {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for processNext(ctx, q, log, syncKey) {
			}
		}()
	}
	<-ctx.Done()
	q.ShutDown()
	wg.Wait()
}

func processNext(ctx context.Context, q Queue, log *slog.Logger, syncKey func(context.Context, string) error) bool {
	key, quit := q.Get()
	if quit {
		return false
	}
	defer q.Done(key)
	if err := syncKey(ctx, key); err != nil {
		if ctx.Err() == nil {
			log.Debug("sync failed; will retry", "key", key, "err", err)
		}
		q.AddRateLimited(key)
		return true
	}
	q.Forget(key)
	return true
}

// WaitForSync waits for the informers' caches, reporting false when ctx
// ended first.
func WaitForSync(ctx context.Context, synced ...cache.InformerSynced) bool {
	return cache.WaitForCacheSync(ctx.Done(), synced...)
}

// Requeue asks for key to be synced again after d.
func Requeue(q Queue, key string, d time.Duration) {
	if d <= 0 {
		q.Add(key)
		return
	}
	q.AddAfter(key, d)
}

// Every calls fn every period of clk until ctx ends; first at once when
// immediately is set. A fake clock drives it in tests.
func Every(ctx context.Context, clk clock.WithTicker, period time.Duration, immediately bool, fn func(context.Context)) {
	t := clk.NewTicker(period)
	defer t.Stop()
	if immediately {
		fn(ctx)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			fn(ctx)
		}
	}
}
