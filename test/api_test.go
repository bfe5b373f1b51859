package test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"skiff.dev/testenv"
)

func clientset(t *testing.T, env *testenv.Env) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func configMap(name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: data}
}

func TestCreateGetConflict(t *testing.T) {
	env := testenv.Start(t)
	cs := clientset(t, env)
	ctx := context.Background()
	cms := cs.CoreV1().ConfigMaps("default")

	cm, err := cms.Create(ctx, configMap("a", map[string]string{"k": "v"}), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.UID == "" || cm.CreationTimestamp.IsZero() || cm.ResourceVersion == "" {
		t.Fatalf("server-owned metadata missing: %+v", cm.ObjectMeta)
	}
	if _, err := cms.Create(ctx, configMap("a", nil), metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("second create: got %v, want AlreadyExists", err)
	}
	stale := cm.DeepCopy()
	cm.Data["k"] = "v2"
	updated, err := cms.Update(ctx, cm, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if updated.ResourceVersion == cm.ResourceVersion {
		t.Fatal("resourceVersion did not change on update")
	}
	stale.Data["k"] = "stale"
	_, err = cms.Update(ctx, stale, metav1.UpdateOptions{})
	if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), "the object has been modified") {
		t.Fatalf("stale update: got %v, want 409 Conflict", err)
	}
	got, err := cms.Get(ctx, "a", metav1.GetOptions{})
	if err != nil || got.Data["k"] != "v2" {
		t.Fatalf("get after conflict: %v %v", got, err)
	}
	// A no-op update keeps the resourceVersion.
	same, err := cms.Update(ctx, got, metav1.UpdateOptions{})
	if err != nil || same.ResourceVersion != got.ResourceVersion {
		t.Fatalf("no-op update changed resourceVersion %s -> %s (%v)", got.ResourceVersion, same.ResourceVersion, err)
	}
	gen, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "gen-"}}, metav1.CreateOptions{})
	if err != nil || !strings.HasPrefix(gen.Name, "gen-") || len(gen.Name) != len("gen-")+5 {
		t.Fatalf("generateName: %v %v", gen, err)
	}
	if _, err := cms.Get(ctx, "missing", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("missing: got %v, want NotFound", err)
	}
	_, err = cms.Create(ctx, configMap("Bad_Name", nil), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "metadata.name") {
		t.Fatalf("invalid name: got %v, want 422 naming metadata.name", err)
	}
	_, err = cs.CoreV1().ConfigMaps("nowhere").Create(ctx, configMap("x", nil), metav1.CreateOptions{})
	if !apierrors.IsNotFound(err) || !strings.Contains(err.Error(), `namespaces "nowhere" not found`) {
		t.Fatalf("missing namespace: got %v", err)
	}
	big := strings.Repeat("x", 1<<20+1)
	_, err = cms.Create(ctx, configMap("big", map[string]string{"k": big}), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) {
		t.Fatalf("ConfigMap over 1 MiB: got %v, want 422", err)
	}
	huge := strings.Repeat("x", 3<<20+10)
	_, err = cms.Create(ctx, configMap("huge", map[string]string{"k": huge}), metav1.CreateOptions{})
	if !apierrors.IsRequestEntityTooLargeError(err) {
		t.Fatalf("body over 3 MiB: got %v, want 413", err)
	}
}

func TestSelectorsAndPages(t *testing.T) {
	env := testenv.Start(t)
	cs := clientset(t, env)
	ctx := context.Background()
	cms := cs.CoreV1().ConfigMaps("default")
	for i := 0; i < 7; i++ {
		cm := configMap(fmt.Sprintf("cm-%d", i), nil)
		cm.Labels = map[string]string{"tier": []string{"web", "db"}[i%2], "n": fmt.Sprint(i)}
		if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(opts metav1.ListOptions) int {
		t.Helper()
		l, err := cms.List(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		return len(l.Items)
	}
	if n := count(metav1.ListOptions{LabelSelector: "tier=web"}); n != 4 {
		t.Errorf("tier=web: %d, want 4", n)
	}
	if n := count(metav1.ListOptions{LabelSelector: "tier in (db),n notin (1)"}); n != 2 {
		t.Errorf("set-based: %d, want 2", n)
	}
	if n := count(metav1.ListOptions{FieldSelector: "metadata.name=cm-3"}); n != 1 {
		t.Errorf("metadata.name: %d, want 1", n)
	}
	if _, err := cms.List(ctx, metav1.ListOptions{FieldSelector: "spec.nope=1"}); !apierrors.IsBadRequest(err) {
		t.Errorf("unknown field selector: got %v, want 400", err)
	}
	var names []string
	opts := metav1.ListOptions{Limit: 3}
	for pages := 0; ; pages++ {
		l, err := cms.List(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, cm := range l.Items {
			names = append(names, cm.Name)
		}
		if l.Continue == "" {
			if pages != 2 {
				t.Errorf("pages: %d, want 3", pages+1)
			}
			break
		}
		opts.Continue = l.Continue
	}
	if len(names) != 7 || names[0] != "cm-0" || names[6] != "cm-6" {
		t.Errorf("paged names: %v", names)
	}
}

func TestWatchSemantics(t *testing.T) {
	env := testenv.Start(t, testenv.Options{BookmarkInterval: 200 * time.Millisecond})
	cs := clientset(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cms := cs.CoreV1().ConfigMaps("default")
	a, err := cms.Create(ctx, configMap("a", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// resourceVersion=0: the current state first, as ADDED.
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: "0", AllowWatchBookmarks: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ev := next(t, w)
	if ev.Type != watch.Added || ev.Object.(*corev1.ConfigMap).Name != "a" {
		t.Fatalf("first event: %v", ev)
	}
	b, err := cms.Create(ctx, configMap("b", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ev := next(t, w); ev.Type != watch.Added || ev.Object.(*corev1.ConfigMap).ResourceVersion != b.ResourceVersion {
		t.Fatalf("create event: %v", ev)
	}
	// A bookmark comes by itself.
	for {
		ev := nextAny(t, w)
		if ev.Type == watch.Bookmark {
			break
		}
	}
	// Watching from a resourceVersion replays what came after it.
	w2, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: a.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Stop()
	if ev := next(t, w2); ev.Object.(*corev1.ConfigMap).Name != "b" {
		t.Fatalf("replay from %s: %v", a.ResourceVersion, ev)
	}
	if err := cms.Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, w2); ev.Type != watch.Deleted || ev.Object.(*corev1.ConfigMap).Name != "a" {
		t.Fatalf("delete event: %v", ev)
	}
	// timeoutSeconds ends the watch.
	secs := int64(1)
	l, err := cms.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w3, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: l.ResourceVersion, TimeoutSeconds: &secs})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-w3.ResultChan():
		if ok {
			t.Fatal("event on a quiet watch")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("timeoutSeconds did not end the watch")
	}
}

// next returns the next non-bookmark event.
func next(t *testing.T, w watch.Interface) watch.Event {
	t.Helper()
	for {
		ev := nextAny(t, w)
		if ev.Type != watch.Bookmark {
			return ev
		}
	}
}

func nextAny(t *testing.T, w watch.Interface) watch.Event {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("watch closed")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event within 10s")
	}
	return watch.Event{}
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
