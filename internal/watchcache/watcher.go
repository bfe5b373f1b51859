package watchcache

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"skiff.dev/internal/store"
)

// maxQueue is how many undelivered events a watcher may hold before it is
// closed as too slow; its client then watches again from where it was.
const maxQueue = 100000

// ErrSlow ends a watcher whose client does not keep up.
var ErrSlow = errors.New("watchcache: watcher fell too far behind")

// Watcher receives the changes one client asked for.
type Watcher struct {
	filter Filter
	from   int64 // events at or before from are not sent
	cache  *Cache

	mu     sync.Mutex
	queue  []Event
	rev    int64 // every change up to rev has been queued or filtered out
	err    error
	signal chan struct{}
	stop   context.CancelFunc
}

func newWatcher(c *Cache, from int64, f Filter) *Watcher {
	return &Watcher{cache: c, from: from, filter: f, rev: from, signal: make(chan struct{}, 1)}
}

// Next waits for events and returns them in order, with the revision every
// change up to which has now been seen (for bookmarks). It returns an error
// when the watcher has ended: store.ErrCompacted when the revision asked
// for is gone, ErrSlow, or ctx's error.
func (w *Watcher) Next(ctx context.Context) ([]Event, int64, error) {
	for {
		w.mu.Lock()
		if len(w.queue) > 0 {
			evs := w.queue
			w.queue = nil
			rev := w.rev
			w.mu.Unlock()
			return evs, rev, nil
		}
		if w.err != nil {
			err := w.err
			w.mu.Unlock()
			return nil, 0, err
		}
		w.mu.Unlock()
		select {
		case <-w.signal:
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
	}
}

// TryNext is Next without waiting: ok is false when there is nothing yet.
func (w *Watcher) TryNext() (evs []Event, rev int64, err error, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.queue) > 0 {
		evs, w.queue = w.queue, nil
		return evs, w.rev, nil, true
	}
	if w.err != nil {
		return nil, 0, w.err, true
	}
	return nil, w.rev, nil, false
}

// Poll returns the revision reached so far without waiting.
func (w *Watcher) Poll() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rev
}

// Signal is ready when Next has something to return.
func (w *Watcher) Signal() <-chan struct{} { return w.signal }

// Stop ends the watcher and frees its resources.
func (w *Watcher) Stop() {
	if w.stop != nil {
		w.stop()
	}
	if w.cache != nil {
		w.cache.mu.Lock()
		delete(w.cache.watchers, w)
		w.cache.mu.Unlock()
	}
	w.close(context.Canceled)
}

// add queues ev as this watcher sees it: a change that moves an object into
// the filter's view is Added, out of it Deleted.
func (w *Watcher) add(ev Event) {
	if ev.Rev <= w.from {
		return
	}
	out, ok := w.view(ev)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return
	}
	if ok {
		if len(w.queue) >= maxQueue {
			w.queue = nil
			w.err = ErrSlow
		} else {
			w.queue = append(w.queue, out)
		}
	}
	w.rev = ev.Rev
	w.notify()
}

func (w *Watcher) view(ev Event) (Event, bool) {
	if w.filter == nil {
		return ev, true
	}
	now := w.filter(ev.Object)
	before := ev.Prev != nil && w.filter(ev.Prev)
	switch ev.Type {
	case watch.Added:
		return ev, now
	case watch.Deleted:
		return ev, before || now
	}
	switch {
	case before && now:
		return ev, true
	case now:
		ev.Type = watch.Added
		return ev, true
	case before:
		// Leaving the view: the last state it was seen in, at this revision.
		prev := ev.Prev.DeepCopyObject()
		if m, err := meta.Accessor(prev); err == nil {
			m.SetResourceVersion(fmt.Sprint(ev.Rev))
		}
		return Event{Type: watch.Deleted, Key: ev.Key, Object: prev, Rev: ev.Rev}, true
	}
	return ev, false
}

func (w *Watcher) progress(rev int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if rev > w.rev {
		w.rev = rev
	}
}

func (w *Watcher) close(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
	w.notify()
}

func (w *Watcher) notify() {
	select {
	case w.signal <- struct{}{}:
	default:
	}
}

// Watch starts a watcher of the changes after revision from. With from 0 it
// first sends the current state, as Added events. A revision older than the
// cache's window is served by a direct store watch.
func (c *Cache) Watch(ctx context.Context, from int64, f Filter) (*Watcher, error) {
	if err := c.WaitFor(ctx, 0); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case from == 0:
		w := newWatcher(c, c.rev, f)
		objs := make([]runtime.Object, 0, len(c.items))
		keys := make([]string, 0, len(c.items))
		for k, obj := range c.items {
			if f == nil || f(obj) {
				keys = append(keys, k)
				objs = append(objs, obj)
			}
		}
		for i, obj := range objs {
			w.queue = append(w.queue, Event{Type: watch.Added, Key: keys[i], Object: obj})
		}
		c.watchers[w] = struct{}{}
		w.notify()
		return w, nil
	case from >= c.oldest:
		w := newWatcher(c, from, f)
		c.history.each(w.add)
		if c.rev > w.rev {
			w.rev = c.rev
		}
		c.watchers[w] = struct{}{}
		return w, nil
	}
	return c.watchStore(ctx, from, f), nil
}

// watchStore serves a watcher from etcd directly, for revisions older than
// the window.
func (c *Cache) watchStore(ctx context.Context, from int64, f Filter) *Watcher {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w := newWatcher(nil, from, f)
	w.stop = cancel
	go func() {
		for b := range c.st.Watch(ctx, c.prefix, from+1) {
			if b.Err != nil {
				w.close(b.Err)
				return
			}
			for _, ch := range b.Changes {
				ev, ok := decodeChange(c.decode, ch)
				if ok {
					w.add(ev)
				}
			}
			w.progress(b.Rev)
		}
		w.close(context.Canceled)
	}()
	return w
}

func decodeChange(decode Decoder, ch store.Change) (Event, bool) {
	obj, err := decode(ch.KV)
	if err != nil {
		return Event{}, false
	}
	ev := Event{Key: ch.KV.Key, Object: obj, Rev: ch.KV.Rev, Type: watch.Added}
	if ch.Prev != nil {
		if prev, err := decode(*ch.Prev); err == nil {
			ev.Prev = prev
			ev.Type = watch.Modified
		}
	}
	if ch.Deleted {
		ev.Type = watch.Deleted
	}
	return ev, true
}
