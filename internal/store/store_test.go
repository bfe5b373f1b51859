package store

import (
	"context"
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
)

func startTestStore(t *testing.T) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := StartEmbedded(ctx, EmbeddedOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return New(e.Client())
}

func TestCompareAndSwap(t *testing.T) {
	st := startTestStore(t)
	ctx := context.Background()
	key := "/registry/configmaps/default/a"
	rev, err := st.Create(ctx, key, []byte(`{"v":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Create(ctx, key, []byte(`{}`)); !errors.Is(err, ErrExists) {
		t.Fatalf("second create: got %v, want ErrExists", err)
	}
	rev2, err := st.Update(ctx, key, []byte(`{"v":2}`), rev)
	if err != nil {
		t.Fatal(err)
	}
	if rev2 <= rev {
		t.Fatalf("revision did not grow: %d then %d", rev, rev2)
	}
	if _, err := st.Update(ctx, key, []byte(`{"v":3}`), rev); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale update: got %v, want ErrConflict", err)
	}
	kv, err := st.Get(ctx, key)
	if err != nil || string(kv.Value) != `{"v":2}` || kv.Rev != rev2 {
		t.Fatalf("get: %+v %v", kv, err)
	}
	if _, err := st.Delete(ctx, key, rev); !errors.Is(err, ErrConflict) {
		t.Fatalf("stale delete: got %v, want ErrConflict", err)
	}
	if _, err := st.Delete(ctx, key, rev2); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after delete: got %v, want ErrNotFound", err)
	}
	if _, err := st.Update(ctx, key, []byte(`{}`), rev2); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update after delete: got %v, want ErrNotFound", err)
	}
}

func TestListPagesAndWatch(t *testing.T) {
	st := startTestStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start, err := st.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b", "c"} {
		if _, err := st.Create(ctx, "/registry/pods/ns/"+n, []byte(n)); err != nil {
			t.Fatal(err)
		}
	}
	p, err := st.List(ctx, "/registry/pods/", "", 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.KVs) != 2 || !p.More || p.Remaining != 1 {
		t.Fatalf("first page: %+v", p)
	}
	p2, err := st.List(ctx, "/registry/pods/", p.KVs[1].Key+"\x00", 2, p.Rev)
	if err != nil || len(p2.KVs) != 1 || p2.More || p2.KVs[0].Key != "/registry/pods/ns/c" {
		t.Fatalf("second page: %+v %v", p2, err)
	}
	w := st.Watch(ctx, "/registry/pods/", start+1)
	var seen []string
	for len(seen) < 3 {
		select {
		case b := <-w:
			if b.Err != nil {
				t.Fatal(b.Err)
			}
			for _, c := range b.Changes {
				seen = append(seen, string(c.KV.Value))
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("watch saw only %v", seen)
		}
	}
	if seen[0] != "a" || seen[2] != "c" {
		t.Fatalf("watch order: %v", seen)
	}
	rev, _ := st.Revision(ctx)
	if err := st.Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
	if _, err := st.List(ctx, "/registry/pods/", "", 0, start); !errors.Is(err, ErrCompacted) {
		t.Fatalf("list at compacted revision: got %v, want ErrCompacted", err)
	}
}

// TestEmbeddedPortTakenIsDetected: when a port etcd wants is taken, the
// error says so in a way StartEmbedded recognises (it then picks fresh
// ports again on a first start).
func TestEmbeddedPortTakenIsDetected(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	free, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	_, err = startEtcd(t.Context(), EmbeddedOptions{Dir: t.TempDir()},
		ports{Client: taken.Addr().(*net.TCPAddr).Port, Peer: free})
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("err = %v, want one that wraps EADDRINUSE", err)
	}
}
