package watchcache

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"skiff.dev/internal/store"
)

// Decoder turns a stored value into an object whose resourceVersion is kv.Rev.
type Decoder func(kv store.KV) (runtime.Object, error)

// Filter tells whether a watcher or a list wants an object; nil wants all.
type Filter func(obj runtime.Object) bool

// Event is one change of one object.
type Event struct {
	Type watch.EventType
	Key  string
	// Object is the object after the change; for Deleted, its last state.
	Object runtime.Object
	// Prev is the object before the change, nil for Added.
	Prev runtime.Object
	Rev  int64
	// Memo caches encodings of Object shared by every watcher of the event;
	// nil for events made for one watcher.
	Memo *Memo
}

// ErrTooOld is returned by Cache.Watch internally when a revision is older
// than the window; callers see the store fallback instead.
var errTooOld = errors.New("watchcache: revision older than the window")

// historySize is how many recent changes the window keeps per resource.
const historySize = 10000

// Cache is the watch cache of one resource prefix.
type Cache struct {
	st     *store.Store
	prefix string
	decode Decoder

	mu       sync.RWMutex
	changed  *sync.Cond // broadcast when rev grows or the cache resets
	items    map[string]runtime.Object
	rev      int64 // every change up to rev has been applied
	ready    bool
	history  *history // the latest changes, oldest first
	oldest   int64    // history holds every change with Rev > oldest
	watchers map[*Watcher]struct{}
}

// New returns a cache of the keys under prefix. Run fills and follows it.
func New(st *store.Store, prefix string, decode Decoder) *Cache {
	c := &Cache{st: st, prefix: prefix, decode: decode,
		items: map[string]runtime.Object{}, watchers: map[*Watcher]struct{}{}, history: newHistory(historySize)}
	c.changed = sync.NewCond(&c.mu)
	return c
}

// Prefix is the store prefix the cache follows.
func (c *Cache) Prefix() string { return c.prefix }

// Run lists and follows the prefix until ctx ends, listing again after a
// broken watch.
func (c *Cache) Run(ctx context.Context) {
	defer c.closeAll(errors.New("watchcache: stopped"))
	for ctx.Err() == nil {
		if err := c.follow(ctx); err != nil && ctx.Err() == nil {
			c.closeAll(err)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

func (c *Cache) follow(ctx context.Context) error {
	page, err := c.st.List(ctx, c.prefix, "", 0, 0)
	if err != nil {
		return err
	}
	items := make(map[string]runtime.Object, len(page.KVs))
	for _, kv := range page.KVs {
		obj, err := c.decode(kv)
		if err != nil {
			continue // an undecodable value is skipped, not fatal
		}
		items[kv.Key] = obj
	}
	c.mu.Lock()
	c.items, c.rev, c.oldest, c.ready = items, page.Rev, page.Rev, true
	c.history.reset()
	c.changed.Broadcast()
	c.mu.Unlock()

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for b := range c.st.Watch(wctx, c.prefix, page.Rev+1) {
		if b.Err != nil {
			return b.Err
		}
		c.apply(b)
	}
	return ctx.Err()
}

func (c *Cache) apply(b store.Batch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range b.Changes {
		ev, ok := c.event(ch)
		if !ok {
			continue
		}
		if ev.Type == watch.Deleted {
			delete(c.items, ev.Key)
		} else {
			c.items[ev.Key] = ev.Object
		}
		c.remember(ev)
		for w := range c.watchers {
			w.add(ev)
		}
		c.rev = ev.Rev
	}
	if len(b.Changes) == 0 && b.Rev > c.rev {
		c.rev = b.Rev // a progress notice: nothing changed up to b.Rev
	}
	for w := range c.watchers {
		w.progress(c.rev)
	}
	c.changed.Broadcast()
}

// event turns a store change into an Event, with the previous object from
// the cache.
func (c *Cache) event(ch store.Change) (Event, bool) {
	obj, err := c.decode(ch.KV)
	if err != nil {
		return Event{}, false
	}
	ev := Event{Key: ch.KV.Key, Object: obj, Rev: ch.KV.Rev, Prev: c.items[ch.KV.Key], Memo: &Memo{}}
	switch {
	case ch.Deleted:
		ev.Type = watch.Deleted
	case ev.Prev == nil:
		ev.Type = watch.Added
	default:
		ev.Type = watch.Modified
	}
	return ev, true
}

func (c *Cache) remember(ev Event) {
	if out, full := c.history.push(ev); full {
		c.oldest = out.Rev
	}
}

// WaitFor blocks until the cache has applied every change up to rev, or
// ctx ends.
func (c *Cache) WaitFor(ctx context.Context, rev int64) error {
	stop := context.AfterFunc(ctx, func() {
		c.mu.Lock()
		c.changed.Broadcast()
		c.mu.Unlock()
	})
	defer stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for !c.ready || c.rev < rev {
		if ctx.Err() != nil {
			return fmt.Errorf("watchcache: waiting for revision %d (at %d): %w", rev, c.rev, ctx.Err())
		}
		c.changed.Wait()
	}
	return nil
}

// Sync waits until the cache holds everything written to the store before
// the call: a consistent read.
func (c *Cache) Sync(ctx context.Context) error {
	rev, err := c.st.Revision(ctx)
	if err != nil {
		return err
	}
	c.mu.RLock()
	fresh := c.ready && c.rev >= rev
	c.mu.RUnlock()
	if fresh {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	done := make(chan struct{})
	defer close(done)
	go func() { // ask etcd to tell the watch where the store is, until fresh
		for {
			_ = c.st.RequestProgress(ctx)
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return c.WaitFor(ctx, rev)
}

// List returns the objects the filter wants, in key order, and the revision
// they are current at. With consistent set it first waits for Sync.
func (c *Cache) List(ctx context.Context, consistent bool, f Filter) ([]runtime.Object, int64, error) {
	if consistent {
		if err := c.Sync(ctx); err != nil {
			return nil, 0, err
		}
	} else if err := c.WaitFor(ctx, 0); err != nil {
		return nil, 0, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	keys := make([]string, 0, len(c.items))
	for k, obj := range c.items {
		if f == nil || f(obj) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]runtime.Object, len(keys))
	for i, k := range keys {
		out[i] = c.items[k]
	}
	return out, c.rev, nil
}

// Get returns the cached object at key, if any. The object is shared: do
// not modify it.
func (c *Cache) Get(key string) (runtime.Object, int64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	obj, ok := c.items[key]
	return obj, c.rev, ok
}

// Rev is the revision the cache has reached.
func (c *Cache) Rev() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rev
}

func (c *Cache) closeAll(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for w := range c.watchers {
		w.close(err)
		delete(c.watchers, w)
	}
}
