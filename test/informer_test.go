package test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"skiff.dev/internal/store"
	"skiff.dev/testenv"
)

// recorder keeps, per object, the resourceVersions an informer delivered.
type recorder struct {
	mu      sync.Mutex
	changes map[string][]int64 // name -> RVs of adds, updates; -1 for a delete
	order   []int64            // RVs of watch-delivered changes, in delivery order
}

func (r *recorder) note(name string, rv int64, watched bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes[name] = append(r.changes[name], rv)
	if watched {
		r.order = append(r.order, rv)
	}
}

func rvOf(obj interface{}) int64 {
	cm, ok := obj.(*corev1.ConfigMap)
	if !ok {
		return 0
	}
	n, _ := strconv.ParseInt(cm.ResourceVersion, 10, 64)
	return n
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.changes {
		n += len(c)
	}
	return n
}

// TestInformerAcrossRestarts: an informer over 5,000 ConfigMaps sees every
// change exactly once and in order while the server restarts, and relists
// cleanly after its resourceVersion is compacted away (410 Expired).
func TestInformerAcrossRestarts(t *testing.T) {
	const total, updates, offline = 5000, 1000, 100
	dir := t.TempDir()
	env := testenv.Start(t, testenv.Options{DataDir: dir})
	port := env.Port
	cs := clientset(t, env)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "inf"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	rec := &recorder{changes: map[string][]int64{}}
	relisting := false
	var relistMu sync.Mutex
	watched := func() bool { relistMu.Lock(); defer relistMu.Unlock(); return !relisting }
	factory := informers.NewSharedInformerFactoryWithOptions(kubernetes.NewForConfigOrDie(env.Config), 0, informers.WithNamespace("inf"))
	inf := factory.Core().V1().ConfigMaps().Informer()
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) { rec.note(obj.(*corev1.ConfigMap).Name, rvOf(obj), watched()) },
		UpdateFunc: func(old, obj interface{}) {
			if rvOf(old) != rvOf(obj) { // a relist repeats unchanged objects
				rec.note(obj.(*corev1.ConfigMap).Name, rvOf(obj), watched())
			}
		},
		DeleteFunc: func(obj interface{}) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			rec.note(obj.(*corev1.ConfigMap).Name, -1, false)
		},
	})
	go inf.Run(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("informer did not sync")
	}

	parallel(t, total, func(i int) error {
		_, err := cs.CoreV1().ConfigMaps("inf").Create(ctx, configMap(fmt.Sprintf("cm-%04d", i), map[string]string{"v": "0"}), metav1.CreateOptions{})
		return err
	})
	waitFor(t, "creates seen", func() bool { return rec.count() == total })

	// Restart the server on the same port; the informer keeps watching.
	env.Stop()
	env = testenv.Start(t, testenv.Options{DataDir: dir, APIPort: port})
	cs = clientset(t, env)
	parallel(t, updates, func(i int) error {
		cm, err := cs.CoreV1().ConfigMaps("inf").Get(ctx, fmt.Sprintf("cm-%04d", i), metav1.GetOptions{})
		if err != nil {
			return err
		}
		cm.Data["v"] = "1"
		_, err = cs.CoreV1().ConfigMaps("inf").Update(ctx, cm, metav1.UpdateOptions{})
		return err
	})
	waitFor(t, "updates seen after restart", func() bool { return rec.count() == total+updates })

	// Change objects while the server is down and compact etcd past the
	// informer's revision: on restart its watch gets 410 and it relists.
	certs := *env.Server.Certs()
	env.Stop()
	relistMu.Lock()
	relisting = true
	relistMu.Unlock()
	offlineChanges(t, dir, certs.CACert, certs.EtcdServerCert, certs.EtcdServerKey, total-offline, total)
	env = testenv.Start(t, testenv.Options{DataDir: dir, APIPort: port})
	waitFor(t, "offline changes seen through a relist", func() bool { return rec.count() == total+updates+offline })

	rec.mu.Lock()
	defer rec.mu.Unlock()
	for i := 0; i < total; i++ {
		name := fmt.Sprintf("cm-%04d", i)
		want := 1
		if i < updates || i >= total-offline {
			want = 2
		}
		got := rec.changes[name]
		if len(got) != want {
			t.Fatalf("%s: %d changes seen %v, want %d", name, len(got), got, want)
		}
		if want == 2 && got[1] != -1 && got[1] <= got[0] {
			t.Fatalf("%s: resourceVersions out of order: %v", name, got)
		}
	}
	for i := 1; i < len(rec.order); i++ {
		if rec.order[i] <= rec.order[i-1] {
			t.Fatalf("watch delivered revision %d after %d", rec.order[i], rec.order[i-1])
		}
	}
}

// offlineChanges edits objects [from, to) straight in etcd while no API
// server runs (half updated, half deleted) and compacts history.
func offlineChanges(t *testing.T, dir, ca, cert, key string, from, to int) {
	t.Helper()
	ctx := context.Background()
	e, err := store.StartEmbedded(ctx, store.EmbeddedOptions{Dir: filepath.Join(dir, "etcd"), CAFile: ca, CertFile: cert, KeyFile: key})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	st := store.New(e.Client())
	for i := from; i < to; i++ {
		k := fmt.Sprintf("/registry/configmaps/inf/cm-%04d", i)
		kv, err := st.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := st.Delete(ctx, k, kv.Rev); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var cm corev1.ConfigMap
		if err := json.Unmarshal(kv.Value, &cm); err != nil {
			t.Fatal(err)
		}
		cm.Data["v"] = "offline"
		b, _ := json.Marshal(&cm)
		if _, err := st.Update(ctx, k, b, kv.Rev); err != nil {
			t.Fatal(err)
		}
	}
	rev, err := st.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
}

// parallel runs f(0..n-1) on 16 workers and fails the test on any error.
func parallel(t *testing.T, n int, f func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	work := make(chan int)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := f(i); err != nil {
					errs <- fmt.Errorf("item %d: %w", i, err)
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
