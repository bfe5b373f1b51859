package watchcache

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"skiff.dev/internal/store"
)

func decode(kv store.KV) (runtime.Object, error) {
	cm := &corev1.ConfigMap{}
	if err := json.Unmarshal(kv.Value, cm); err != nil {
		return nil, err
	}
	cm.ResourceVersion = strconv.FormatInt(kv.Rev, 10)
	return cm, nil
}

func value(name, tier string) []byte {
	cm := map[string]any{"metadata": map[string]any{"name": name, "labels": map[string]string{"tier": tier}}}
	b, _ := json.Marshal(cm)
	return b
}

func setup(t *testing.T) (*store.Store, *Cache, context.Context) {
	t.Helper()
	st, ctx := setupStore(t)
	return st, startCache(ctx, st), ctx
}

func setupStore(t *testing.T) (*store.Store, context.Context) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e, err := store.StartEmbedded(ctx, store.EmbeddedOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return store.New(e.Client()), ctx
}

func startCache(ctx context.Context, st *store.Store) *Cache {
	c := New(st, "/registry/configmaps/", decode)
	go c.Run(ctx)
	return c
}

func web(obj runtime.Object) bool { return obj.(*corev1.ConfigMap).Labels["tier"] == "web" }

func collect(t *testing.T, ctx context.Context, w *Watcher, n int) []Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out []Event
	for len(out) < n {
		evs, _, err := w.Next(ctx)
		if err != nil {
			t.Fatalf("after %d events: %v", len(out), err)
		}
		out = append(out, evs...)
	}
	return out
}

func TestFilteredWatchSeesObjectsEnterAndLeave(t *testing.T) {
	st, c, ctx := setup(t)
	if err := c.WaitFor(ctx, 0); err != nil {
		t.Fatal(err)
	}
	w, err := c.Watch(ctx, c.Rev(), web)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	key := "/registry/configmaps/ns/a"
	rev, _ := st.Create(ctx, key, value("a", "db")) // not in view
	rev, _ = st.Update(ctx, key, value("a", "web"), rev)
	rev, _ = st.Update(ctx, key, value("a", "web"), rev)
	_, _ = st.Update(ctx, key, value("a", "db"), rev)
	evs := collect(t, ctx, w, 3)
	want := []watch.EventType{watch.Added, watch.Modified, watch.Deleted}
	for i, ev := range evs[:3] {
		if ev.Type != want[i] {
			t.Fatalf("event %d: %s, want %s", i, ev.Type, want[i])
		}
	}
	if got := evs[2].Object.(*corev1.ConfigMap).Labels["tier"]; got != "web" {
		t.Errorf("leaving the view is reported with the last state in view, got tier=%s", got)
	}
}

func TestWatchFromOldRevisions(t *testing.T) {
	st, ctx := setupStore(t)
	start, _ := st.Revision(ctx)
	for _, n := range []string{"a", "b", "c"} {
		if _, err := st.Create(ctx, "/registry/configmaps/ns/"+n, value(n, "web")); err != nil {
			t.Fatal(err)
		}
	}
	rev, _ := st.Revision(ctx)
	c := startCache(ctx, st) // its window starts after the writes
	if err := c.WaitFor(ctx, rev); err != nil {
		t.Fatal(err)
	}
	// Before the cache's window (it started after these writes): served by
	// etcd directly, in order.
	w, err := c.Watch(ctx, start, nil)
	if err != nil {
		t.Fatal(err)
	}
	evs := collect(t, ctx, w, 3)
	w.Stop()
	for i, n := range []string{"a", "b", "c"} {
		if evs[i].Object.(*corev1.ConfigMap).Name != n || evs[i].Type != watch.Added {
			t.Fatalf("event %d: %s %s", i, evs[i].Type, evs[i].Object.(*corev1.ConfigMap).Name)
		}
	}
	// After compaction that revision is gone: the watcher ends with ErrCompacted.
	if err := st.Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
	w, err = c.Watch(ctx, start, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, _, err := w.Next(tctx); !errors.Is(err, store.ErrCompacted) {
		t.Fatalf("watch from a compacted revision: got %v, want ErrCompacted", err)
	}
	// resourceVersion 0: the current state as Added, then changes.
	w0, err := c.Watch(ctx, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w0.Stop()
	if evs := collect(t, ctx, w0, 3); len(evs) != 3 || evs[0].Type != watch.Added {
		t.Fatalf("initial state: %v", evs)
	}
}
