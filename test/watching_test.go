package test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	clientfeatures "k8s.io/client-go/features"
	clientfeaturestesting "k8s.io/client-go/features/testing"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/store"
	"skiff.dev/testenv"
)

// compact compacts the control plane's etcd at its current revision.
func compact(t *testing.T, ctx context.Context, env *testenv.Env) {
	t.Helper()
	certs := env.Server.Certs()
	client, err := store.Dial(ctx, []string{env.Server.EtcdURL()}, certs.CACert, certs.EtcdClientCert, certs.EtcdClientKey)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	st := store.New(client)
	rev, err := st.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
}

// TestWatchAndContinueExpire: after compaction, a continue token from
// before it and a watch from a revision older than the server's window
// get 410 Expired (the watch as an ERROR event, as upstream).
func TestWatchAndContinueExpire(t *testing.T) {
	dir := t.TempDir()
	env := testenv.Start(t, testenv.Options{DataDir: dir})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cms := clientset(t, env).CoreV1().ConfigMaps("default")
	var old string
	for i := 0; i < 3; i++ {
		cm, err := cms.Create(ctx, configMap(fmt.Sprintf("cm-%d", i), nil), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			old = cm.ResourceVersion
		}
	}
	page, err := cms.List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil || page.Continue == "" {
		t.Fatalf("first page: %v %v", page, err)
	}
	if _, err := cms.Update(ctx, configMap("cm-0", map[string]string{"k": "v"}), metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	compact(t, ctx, env)
	_, err = cms.List(ctx, metav1.ListOptions{Limit: 1, Continue: page.Continue})
	if !apierrors.IsResourceExpired(err) || !strings.Contains(err.Error(), "continue parameter is too old") {
		t.Errorf("list with a compacted continue token: got %v, want 410 Expired", err)
	}

	// A restarted server's watch cache starts after the compaction: the old
	// revision is gone for good.
	env.Stop()
	env = testenv.Start(t, testenv.Options{DataDir: dir})
	cms = clientset(t, env).CoreV1().ConfigMaps("default")
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: old})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ev := nextAny(t, w)
	if ev.Type != watch.Error {
		t.Fatalf("watch from compacted %s: first event %s %v, want ERROR", old, ev.Type, ev.Object)
	}
	if se := apierrors.FromObject(ev.Object); !apierrors.IsResourceExpired(se) && !apierrors.IsGone(se) {
		t.Errorf("watch error: %v, want 410", se)
	}
	// The same over the wire: 200, then one ERROR event with a 410 Status.
	code, body := raw(t, env).do(http.MethodGet, "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=5&resourceVersion="+old, nil)
	if code != http.StatusOK || !strings.Contains(string(body), `"type":"ERROR"`) || !strings.Contains(string(body), `"code":410`) {
		t.Errorf("raw watch: %d %s", code, body)
	}
}

// TestWatchSelectorTransitions: with a label selector, an object that
// leaves the selection arrives as DELETED (its last selected state) and one
// that enters as ADDED.
func TestWatchSelectorTransitions(t *testing.T) {
	env := testenv.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cms := clientset(t, env).CoreV1().ConfigMaps("default")
	labelled := func(name, tier string) *corev1.ConfigMap {
		cm := configMap(name, nil)
		cm.Labels = map[string]string{"tier": tier}
		return cm
	}
	leaving, err := cms.Create(ctx, labelled("leaving", "web"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	entering, err := cms.Create(ctx, labelled("entering", "db"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := cms.Watch(ctx, metav1.ListOptions{LabelSelector: "tier=web", ResourceVersion: entering.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	leaving.Labels["tier"] = "db"
	left, err := cms.Update(ctx, leaving, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	entering.Labels["tier"] = "web"
	entered, err := cms.Update(ctx, entering, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		typ  watch.EventType
		name string
		rv   string
	}{{watch.Deleted, "leaving", left.ResourceVersion}, {watch.Added, "entering", entered.ResourceVersion}}
	for _, wv := range want {
		ev := next(t, w)
		cm, ok := ev.Object.(*corev1.ConfigMap)
		if !ok || ev.Type != wv.typ || cm.Name != wv.name || cm.ResourceVersion != wv.rv || cm.Labels["tier"] != "web" {
			t.Fatalf("event %s %+v, want %s of %s at %s labelled tier=web", ev.Type, ev.Object, wv.typ, wv.name, wv.rv)
		}
	}
}

// TestWatchInitialEvents: sendInitialEvents=true sends the current state as
// ADDED, then a BOOKMARK annotated k8s.io/initial-events-end, then changes.
func TestWatchInitialEvents(t *testing.T) {
	env := testenv.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cms := clientset(t, env).CoreV1().ConfigMaps("default")
	for _, n := range []string{"a", "b"} {
		if _, err := cms.Create(ctx, configMap(n, nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	w, err := cms.Watch(ctx, metav1.ListOptions{SendInitialEvents: ptr.To(true), AllowWatchBookmarks: true,
		ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	seen := map[string]bool{}
	for len(seen) < 2 {
		ev := nextAny(t, w)
		if ev.Type != watch.Added {
			t.Fatalf("initial event %s %v, want ADDED", ev.Type, ev.Object)
		}
		seen[ev.Object.(*corev1.ConfigMap).Name] = true
	}
	ev := nextAny(t, w)
	bm, _ := ev.Object.(*corev1.ConfigMap)
	if ev.Type != watch.Bookmark || bm == nil || bm.Annotations[metav1.InitialEventsAnnotationKey] != "true" || bm.ResourceVersion == "" {
		t.Fatalf("after the initial events: %s %+v, want the initial-events-end BOOKMARK", ev.Type, ev.Object)
	}
	if _, err := cms.Create(ctx, configMap("c", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, w); ev.Type != watch.Added || ev.Object.(*corev1.ConfigMap).Name != "c" {
		t.Fatalf("after the bookmark: %s %v, want ADDED c", ev.Type, ev.Object)
	}
	// Without bookmarks the request is invalid, as upstream.
	_, err = cms.Watch(ctx, metav1.ListOptions{SendInitialEvents: ptr.To(true), ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan})
	if !apierrors.IsInvalid(err) {
		t.Errorf("sendInitialEvents without bookmarks: got %v, want 422", err)
	}
}

// TestWatchListInformer: client-go's reflector in WatchList mode fills an
// informer from one watch stream, without a LIST.
func TestWatchListInformer(t *testing.T) {
	clientfeaturestesting.SetFeatureDuringTest(t, clientfeatures.WatchListClient, true)
	env := testenv.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cms := clientset(t, env).CoreV1().ConfigMaps("default")
	for i := 0; i < 5; i++ {
		if _, err := cms.Create(ctx, configMap(fmt.Sprintf("cm-%d", i), nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var requests []string
	cfg := rest.CopyConfig(env.Config)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			requests = append(requests, r.Method+" "+r.URL.RequestURI())
			mu.Unlock()
			return rt.RoundTrip(r)
		})
	})
	factory := informers.NewSharedInformerFactoryWithOptions(kubernetes.NewForConfigOrDie(cfg), 0, informers.WithNamespace("default"))
	inf := factory.Core().V1().ConfigMaps().Informer()
	go inf.Run(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("informer did not sync")
	}
	if n := len(inf.GetStore().ListKeys()); n != 5 {
		t.Errorf("informer holds %d ConfigMaps, want 5", n)
	}
	if _, err := cms.Create(ctx, configMap("late", nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the informer sees a later create", func() bool {
		_, ok, _ := inf.GetStore().GetByKey("default/late")
		return ok
	})
	mu.Lock()
	defer mu.Unlock()
	watchList := false
	for _, r := range requests {
		if strings.Contains(r, "watch=true") && strings.Contains(r, "sendInitialEvents=true") {
			watchList = true
		} else if strings.HasPrefix(r, "GET /api/v1/namespaces/default/configmaps") && !strings.Contains(r, "watch=true") {
			t.Errorf("the reflector fell back to a LIST: %s", r)
		}
	}
	if !watchList {
		t.Errorf("no WatchList request among %v", requests)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
