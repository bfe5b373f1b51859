package replicaset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	testclock "k8s.io/utils/clock/testing"

	"skiff.dev/internal/controllers/ctrl"
)

// These tests drive sync against a fake clientset and hand-fed caches to
// check what the real API server cannot easily be made to do: fail pod
// creations. The integration test covers the rest against the real server.

type fixture struct {
	c        *Controller
	client   *fake.Clientset
	rsCache  cache.Indexer
	podCache cache.Indexer
	events   *record.FakeRecorder
	creates  atomic.Int32
	failing  atomic.Bool
}

func newFixture(t *testing.T, rs *appsv1.ReplicaSet, pods ...*corev1.Pod) *fixture {
	f := &fixture{client: fake.NewClientset(rs), events: record.NewFakeRecorder(100)}
	f.rsCache = cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	f.podCache = cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	if err := f.rsCache.Add(rs); err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		if err := f.podCache.Add(p); err != nil {
			t.Fatal(err)
		}
		if err := f.client.Tracker().Add(p); err != nil {
			t.Fatal(err)
		}
	}
	f.client.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		n := f.creates.Add(1)
		if f.failing.Load() {
			return true, nil, apierrors.NewForbidden(corev1.Resource("pods"), "", errQuota)
		}
		// The fake does not implement generateName.
		pod := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		if pod.Name == "" {
			pod.Name = fmt.Sprintf("%s%d", pod.GenerateName, n)
		}
		return false, nil, nil
	})
	f.c = &Controller{
		client: f.client, rsList: appslisters.NewReplicaSetLister(f.rsCache), podList: corelisters.NewPodLister(f.podCache),
		queue: ctrl.NewQueue("test"), exp: ctrl.NewExpectations(), recorder: f.events,
		clock: testclock.NewFakeClock(now), log: slog.New(slog.DiscardHandler),
	}
	t.Cleanup(f.c.queue.ShutDown)
	return f
}

var errQuota = errors.New("exceeded quota")

func (f *fixture) drainEvents() []string {
	var out []string
	for {
		select {
		case e := <-f.events.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func (f *fixture) stored(t *testing.T) *appsv1.ReplicaSet {
	rs, err := f.client.AppsV1().ReplicaSets("ns").Get(context.Background(), "rs", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestSyncCreateFailure(t *testing.T) {
	ctx := context.Background()
	rs := testRS(20, 0)
	f := newFixture(t, rs)
	f.failing.Store(true)

	if err := f.c.sync(ctx, "ns/rs"); err == nil {
		t.Fatal("sync should report the failed creations")
	}
	if n := f.creates.Load(); n != 1 {
		t.Errorf("create calls = %d, want 1 (slow start stops after the first failed batch)", n)
	}
	if !f.c.exp.Satisfied("ns/rs") {
		t.Error("creations that failed or never ran must not be waited for")
	}
	evs := f.drainEvents()
	if len(evs) != 1 || !strings.HasPrefix(evs[0], "Warning FailedCreate Error creating: ") {
		t.Errorf("events = %q, want one FailedCreate", evs)
	}
	st := f.stored(t).Status
	if i := findCondition(st.Conditions, appsv1.ReplicaSetReplicaFailure); i < 0 || st.Conditions[i].Reason != ReasonFailedCreate {
		t.Errorf("conditions = %+v, want ReplicaFailure/FailedCreate", st.Conditions)
	}
	if st.ObservedGeneration != rs.Generation {
		t.Errorf("observedGeneration = %d, want %d", st.ObservedGeneration, rs.Generation)
	}

	// The cause goes away: all 20 are created (1+2+4+8+5) and the
	// condition is dropped.
	f.failing.Store(false)
	if err := f.rsCache.Update(f.stored(t)); err != nil {
		t.Fatal(err)
	}
	f.creates.Store(0)
	if err := f.c.sync(ctx, "ns/rs"); err != nil {
		t.Fatal(err)
	}
	if n := f.creates.Load(); n != 20 {
		t.Errorf("create calls = %d, want 20", n)
	}
	if st := f.stored(t).Status; len(st.Conditions) != 0 {
		t.Errorf("conditions = %+v, want none after success", st.Conditions)
	}
	created := 0
	for _, e := range f.drainEvents() {
		if strings.HasPrefix(e, "Normal SuccessfulCreate Created pod: ") {
			created++
		}
	}
	if created != 20 {
		t.Errorf("SuccessfulCreate events = %d, want 20", created)
	}

	// The cache has not shown the new pods yet: another sync must not
	// create again.
	f.creates.Store(0)
	if err := f.c.sync(ctx, "ns/rs"); err != nil {
		t.Fatal(err)
	}
	if n := f.creates.Load(); n != 0 {
		t.Errorf("a sync with unmet expectations created %d pods", n)
	}
}

func TestSyncDeletesSurplus(t *testing.T) {
	ctx := context.Background()
	rs := testRS(1, 0)
	keep := makePod("keep").on("n1").running().ready(now.Add(-10 * time.Minute)).owner(rs.UID).obj()
	notReady := makePod("not-ready").on("n1").running().owner(rs.UID).obj()
	unscheduled := makePod("unscheduled").phase(corev1.PodPending).owner(rs.UID).obj()
	f := newFixture(t, rs, keep, notReady, unscheduled)

	if err := f.c.sync(ctx, "ns/rs"); err != nil {
		t.Fatal(err)
	}
	left, err := f.client.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(left.Items) != 1 || left.Items[0].Name != "keep" {
		t.Errorf("pods left = %v, want [keep]", left.Items)
	}
	if f.c.exp.Satisfied("ns/rs") {
		t.Error("the deletions should be expected until the informer shows them")
	}
	f.c.deletePod(notReady)
	f.c.deletePod(cache.DeletedFinalStateUnknown{Key: "ns/unscheduled", Obj: unscheduled})
	if !f.c.exp.Satisfied("ns/rs") {
		t.Error("observing both deletions should satisfy the expectations")
	}
	var deleted []string
	for _, e := range f.drainEvents() {
		if name, ok := strings.CutPrefix(e, "Normal SuccessfulDelete Deleted pod: "); ok {
			deleted = append(deleted, name)
		}
	}
	if len(deleted) != 2 {
		t.Errorf("SuccessfulDelete events for %v, want 2", deleted)
	}
	if st := f.stored(t).Status; st.Replicas != 3 {
		// The status reflects the pods the sync started from; the next
		// sync, after the informer shows the deletions, reports 1.
		t.Errorf("status.replicas = %d, want 3 (counted before the deletions)", st.Replicas)
	}
}

// TestSyncDeletingReplicaSet: a ReplicaSet being deleted keeps its pods
// (the garbage collector removes them) and creates none.
func TestSyncDeletingReplicaSet(t *testing.T) {
	rs := testRS(5, 0)
	rs.DeletionTimestamp = &metav1.Time{Time: now}
	rs.Finalizers = []string{"foregroundDeletion"}
	f := newFixture(t, rs)
	if err := f.c.sync(context.Background(), "ns/rs"); err != nil {
		t.Fatal(err)
	}
	if n := f.creates.Load(); n != 0 {
		t.Errorf("created %d pods for a ReplicaSet being deleted", n)
	}
}
