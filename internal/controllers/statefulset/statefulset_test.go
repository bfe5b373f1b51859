package statefulset

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/kubectl/pkg/util/podutils"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/controllers/ctrl"
	"skiff.dev/internal/controllers/ctrltest"
)

// podLog records, in watch order, what happened to a namespace's pods.
type podLog struct {
	mu      sync.Mutex
	entries []podEntry
}

type podEntry struct {
	kind     watch.EventType
	name     string
	uid      types.UID
	ready    bool
	deleting bool
}

func watchPods(t *testing.T, env *ctrltest.Env, ns string) *podLog {
	t.Helper()
	w, err := env.Client.CoreV1().Pods(ns).Watch(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	l := &podLog{}
	go func() {
		for ev := range w.ResultChan() {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			l.mu.Lock()
			l.entries = append(l.entries, podEntry{kind: ev.Type, name: p.Name, uid: p.UID,
				ready: p.Status.Phase == corev1.PodRunning && podutils.IsPodReady(p), deleting: p.DeletionTimestamp != nil})
			l.mu.Unlock()
		}
	}()
	return l
}

func (l *podLog) snapshot() []podEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries)
}

// first is the index of the first entry from..end matching, or -1.
func first(es []podEntry, from int, match func(podEntry) bool) int {
	for i := from; i < len(es); i++ {
		if match(es[i]) {
			return i
		}
	}
	return -1
}

func makeNamespace(t *testing.T, env *ctrltest.Env, name string) {
	t.Helper()
	_, err := env.Client.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

// newTestSet makes a set; with claims, a "data" volume claim template
// mounted by its container. (Hollow nodes cannot mount claims yet, so such
// pods stay Pending.)
func newTestSet(ns, name string, replicas int32, claims bool) *appsv1.StatefulSet {
	labels := map[string]string{"app": name}
	set := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To(replicas),
			Selector:    &metav1.LabelSelector{MatchLabels: labels},
			ServiceName: name + "-svc",
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: ptr.To(int64(1)),
					Containers:                    []corev1.Container{{Name: "c", Image: "nginx"}},
				},
			},
		},
	}
	if claims {
		set.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
		set.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{
			ObjectMeta: metav1.ObjectMeta{Name: "data", Labels: map[string]string{"tier": "storage"}},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
			},
		}}
	}
	return set
}

func getSet(ctx context.Context, env *ctrltest.Env, ns, name string) (*appsv1.StatefulSet, error) {
	return env.Client.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
}

func podsOf(ctx context.Context, env *ctrltest.Env, ns string) (map[string]*corev1.Pod, error) {
	list, err := env.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := map[string]*corev1.Pod{}
	for i := range list.Items {
		out[list.Items[i].Name] = &list.Items[i]
	}
	return out, nil
}

func patchSet(t *testing.T, env *ctrltest.Env, ns, name, patch string) {
	t.Helper()
	_, err := env.Client.AppsV1().StatefulSets(ns).Patch(context.Background(), name, types.StrategicMergePatchType,
		[]byte(patch), metav1.PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func TestStatefulSetAgainstAPIServer(t *testing.T) {
	env := ctrltest.Start(t, ctrl.Options{}, nil)
	env.SimNodes(nil, "n1")
	env.Run(New)
	// One control plane for both scenarios (it is slow to start); no
	// subtests, as env.WaitFor fails the test that started env.
	testOrderedReady(t, env)
	testClaims(t, env)
	testParallelRetention(t, env)
}

func testOrderedReady(t *testing.T, env *ctrltest.Env) {
	const ns = "ordered"
	makeNamespace(t, env, ns)
	dumpOnFailure(t, env, ns)
	log := watchPods(t, env, ns)
	ctx := context.Background()
	if _, err := env.Client.AppsV1().StatefulSets(ns).Create(ctx, newTestSet(ns, "web", 3, false), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// Three pods come up, in ordinal order, each after its predecessor is Ready.
	var set *appsv1.StatefulSet
	env.WaitFor(30*time.Second, "3 ready replicas", func(ctx context.Context) (bool, error) {
		var err error
		set, err = getSet(ctx, env, ns, "web")
		if err != nil {
			return false, err
		}
		st := set.Status
		return st.ObservedGeneration == set.Generation && st.Replicas == 3 && st.ReadyReplicas == 3 &&
			st.AvailableReplicas == 3 && st.CurrentReplicas == 3 && st.UpdatedReplicas == 3 &&
			st.CurrentRevision != "" && st.CurrentRevision == st.UpdateRevision && ptr.Deref(st.CollisionCount, -1) == 0, nil
	})
	es := log.snapshot()
	var added []string
	for i, e := range es {
		if e.kind != watch.Added {
			continue
		}
		added = append(added, e.name)
		if e.name == "web-0" {
			continue
		}
		want := fmt.Sprintf("web-%d", int(e.name[4]-'0')-1)
		if first(es[:i], 0, func(x podEntry) bool { return x.name == want && x.ready }) < 0 {
			t.Errorf("%s was created before %s was Ready", e.name, want)
		}
	}
	if !slices.Equal(added, []string{"web-0", "web-1", "web-2"}) {
		t.Fatalf("pods created in order %v, want web-0, web-1, web-2", added)
	}

	// Identity, storage and the revision.
	pods, err := podsOf(ctx, env, ns)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		name := fmt.Sprintf("web-%d", i)
		p := pods[name]
		if p.Spec.Hostname != name || p.Spec.Subdomain != "web-svc" || p.Labels[appsv1.StatefulSetPodNameLabel] != name ||
			p.Labels[appsv1.PodIndexLabel] != fmt.Sprint(i) || p.Labels[appsv1.StatefulSetRevisionLabel] != set.Status.UpdateRevision {
			t.Errorf("%s: hostname %q subdomain %q labels %v", name, p.Spec.Hostname, p.Spec.Subdomain, p.Labels)
		}
		if !metav1.IsControlledBy(p, set) {
			t.Errorf("%s is not controlled by the set: %v", name, p.OwnerReferences)
		}
	}
	revs, err := env.Client.AppsV1().ControllerRevisions(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(revs.Items) != 1 || revs.Items[0].Name != set.Status.UpdateRevision || revs.Items[0].Revision != 1 ||
		revs.Items[0].Name != "web-"+revs.Items[0].Labels[hashLabel] || !metav1.IsControlledBy(&revs.Items[0], set) {
		t.Fatalf("revisions: %+v", revs.Items)
	}
	waitEvent(t, env, ns, "SuccessfulCreate", "create Pod web-0 in StatefulSet web successful")

	// A rolling update with partition 1 replaces web-2, then web-1, and
	// leaves web-0 at the old revision.
	oldRev := set.Status.CurrentRevision
	mark := len(log.snapshot())
	patchSet(t, env, ns, "web", `{"spec":{"updateStrategy":{"rollingUpdate":{"partition":1}},"template":{"metadata":{"annotations":{"v":"2"}}}}}`)
	env.WaitFor(30*time.Second, "web-1 and web-2 updated", func(ctx context.Context) (bool, error) {
		var err error
		if set, err = getSet(ctx, env, ns, "web"); err != nil {
			return false, err
		}
		st := set.Status
		if st.ObservedGeneration != set.Generation || st.UpdateRevision == oldRev || st.UpdatedReplicas != 2 ||
			st.CurrentReplicas != 1 || st.ReadyReplicas != 3 || st.CurrentRevision != oldRev {
			return false, nil
		}
		pods, err := podsOf(ctx, env, ns)
		if err != nil || len(pods) != 3 {
			return false, err
		}
		return pods["web-0"].Labels[appsv1.StatefulSetRevisionLabel] == oldRev &&
			pods["web-1"].Labels[appsv1.StatefulSetRevisionLabel] == st.UpdateRevision &&
			pods["web-2"].Labels[appsv1.StatefulSetRevisionLabel] == st.UpdateRevision, nil
	})
	es = log.snapshot()
	going := func(name string) func(podEntry) bool {
		return func(e podEntry) bool { return e.name == name && (e.deleting || e.kind == watch.Deleted) }
	}
	d2, d1, d0 := first(es, mark, going("web-2")), first(es, mark, going("web-1")), first(es, mark, going("web-0"))
	if d2 < 0 || d1 < 0 || d2 > d1 || d0 >= 0 {
		t.Errorf("update deletions at web-2 %d, web-1 %d, web-0 %d: want web-2 before web-1 and web-0 untouched", d2, d1, d0)
	}
	if i := first(es, d2, func(e podEntry) bool { return e.name == "web-2" && e.kind == watch.Added }); i < 0 || i > d1 {
		t.Errorf("web-1 was deleted before the new web-2 existed")
	}
	revs, _ = env.Client.AppsV1().ControllerRevisions(ns).List(ctx, metav1.ListOptions{})
	if len(revs.Items) != 2 {
		t.Errorf("%d revisions, want 2", len(revs.Items))
	}

	// A deleted pod comes back; below the partition at the old revision.
	pods, _ = podsOf(ctx, env, ns)
	oldUID := pods["web-0"].UID
	if err := env.Client.CoreV1().Pods(ns).Delete(ctx, "web-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	env.WaitFor(30*time.Second, "web-0 recreated", func(ctx context.Context) (bool, error) {
		p, err := env.Client.CoreV1().Pods(ns).Get(ctx, "web-0", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		return p.UID != oldUID && podutils.IsPodReady(p) && p.Labels[appsv1.StatefulSetRevisionLabel] == oldRev, nil
	})

	// Scaling to 1 deletes web-2, and web-1 only once web-2 is gone.
	mark = len(log.snapshot())
	patchSet(t, env, ns, "web", `{"spec":{"replicas":1}}`)
	env.WaitFor(30*time.Second, "scaled to 1", func(ctx context.Context) (bool, error) {
		s, err := getSet(ctx, env, ns, "web")
		if err != nil {
			return false, err
		}
		pods, err := podsOf(ctx, env, ns)
		return err == nil && len(pods) == 1 && pods["web-0"] != nil && s.Status.Replicas == 1 && s.Status.ReadyReplicas == 1, err
	})
	es = log.snapshot()
	gone2 := first(es, mark, func(e podEntry) bool { return e.name == "web-2" && e.kind == watch.Deleted })
	start1 := first(es, mark, going("web-1"))
	if gone2 < 0 || start1 < 0 || start1 < gone2 {
		t.Errorf("scale down: web-2 gone at %d, web-1 deletion began at %d; want web-2 gone first", gone2, start1)
	}
	waitEvent(t, env, ns, "SuccessfulDelete", "delete Pod web-2 in StatefulSet web successful")
}

func testParallelRetention(t *testing.T, env *ctrltest.Env) {
	const ns = "parallel"
	makeNamespace(t, env, ns)
	dumpOnFailure(t, env, ns)
	ctx := context.Background()
	set := newTestSet(ns, "db", 2, true)
	set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	set.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
		WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType, WhenScaled: appsv1.DeletePersistentVolumeClaimRetentionPolicyType}
	set, err := env.Client.AppsV1().StatefulSets(ns).Create(ctx, set, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Parallel: both pods are made though neither becomes Ready.
	env.WaitFor(30*time.Second, "2 replicas", func(ctx context.Context) (bool, error) {
		s, err := getSet(ctx, env, ns, "db")
		return err == nil && s.Status.Replicas == 2 && s.Status.UpdatedReplicas == 2, err
	})
	for _, c := range []string{"data-db-0", "data-db-1"} {
		pvc, err := env.Client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, c, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !metav1.IsControlledBy(pvc, set) {
			t.Errorf("%s owners %v: want the set as controller (whenDeleted=Delete)", c, pvc.OwnerReferences)
		}
	}
	pods, err := podsOf(ctx, env, ns)
	if err != nil {
		t.Fatal(err)
	}
	pod1 := pods["db-1"]
	patchSet(t, env, ns, "db", `{"spec":{"replicas":1}}`)
	env.WaitFor(30*time.Second, "db-1 gone and its claim handed to it", func(ctx context.Context) (bool, error) {
		pods, err := podsOf(ctx, env, ns)
		if err != nil || pods["db-1"] != nil {
			return false, err
		}
		pvc, err := env.Client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data-db-1", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return metav1.IsControlledBy(pvc, pod1) && !ownedBy(pvc, set), nil
	})
	pvc0, err := env.Client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data-db-0", metav1.GetOptions{})
	if err != nil || !metav1.IsControlledBy(pvc0, set) {
		t.Errorf("data-db-0 should stay with the set: %v %v", pvc0.OwnerReferences, err)
	}
}

// testClaims checks claims made from volumeClaimTemplates. The pods stay
// Pending (hollow nodes cannot mount claims), which also shows that
// OrderedReady does not create db-1 while db-0 is not Ready.
func testClaims(t *testing.T, env *ctrltest.Env) {
	const ns = "claims"
	makeNamespace(t, env, ns)
	ctx := context.Background()
	set, err := env.Client.AppsV1().StatefulSets(ns).Create(ctx, newTestSet(ns, "db", 2, true), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	env.WaitFor(30*time.Second, "db-0 scheduled with its claim", func(ctx context.Context) (bool, error) {
		p, err := env.Client.CoreV1().Pods(ns).Get(ctx, "db-0", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		_, err = env.Client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data-db-0", metav1.GetOptions{})
		return err == nil && p.Spec.NodeName != "", nil
	})
	p, err := env.Client.CoreV1().Pods(ns).Get(ctx, "db-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Spec.Volumes) == 0 || p.Spec.Volumes[0].Name != "data" || p.Spec.Volumes[0].PersistentVolumeClaim == nil ||
		p.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "data-db-0" {
		t.Errorf("db-0 volumes: %+v", p.Spec.Volumes)
	}
	pvc, err := env.Client.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data-db-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pvc.Labels["app"] != "db" || pvc.Labels["tier"] != "storage" || len(pvc.OwnerReferences) != 0 ||
		pvc.Spec.Resources.Requests.Storage().String() != "1Gi" {
		t.Errorf("data-db-0: labels %v owners %v spec %+v", pvc.Labels, pvc.OwnerReferences, pvc.Spec)
	}
	waitEvent(t, env, ns, "SuccessfulCreate", "create Claim data-db-0 Pod db-0 in StatefulSet db success")
	// db-1 must not appear while db-0 is not Ready.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := env.Client.CoreV1().Pods(ns).Get(ctx, "db-1", metav1.GetOptions{}); err == nil {
			t.Fatal("db-1 was created while db-0 is not Ready")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if s, err := getSet(ctx, env, ns, set.Name); err != nil || s.Status.Replicas != 1 || s.Status.ReadyReplicas != 0 {
		t.Errorf("status %+v (%v): want 1 replica, 0 ready", s.Status, err)
	}
}

func waitEvent(t *testing.T, env *ctrltest.Env, ns, reason, message string) {
	t.Helper()
	env.WaitFor(10*time.Second, "event "+message, func(ctx context.Context) (bool, error) {
		evs, err := env.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, e := range evs.Items {
			if e.Reason == reason && e.Message == message && e.Source.Component == Name &&
				e.InvolvedObject.Kind == "StatefulSet" {
				return true, nil
			}
		}
		return false, nil
	})
}

// dumpOnFailure logs the namespace's sets, pods and events when the test
// fails, to show where a wait got stuck.
func dumpOnFailure(t *testing.T, env *ctrltest.Env, ns string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		ctx := context.Background()
		sets, _ := env.Client.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
		for _, s := range sets.Items {
			t.Logf("set %s generation %d status %+v", s.Name, s.Generation, s.Status)
		}
		pods, _ := env.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		for _, p := range pods.Items {
			t.Logf("pod %s phase %s node %q ready %v deleting %v labels %v", p.Name, p.Status.Phase, p.Spec.NodeName,
				podutils.IsPodReady(&p), p.DeletionTimestamp != nil, p.Labels)
		}
		evs, _ := env.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
		for _, e := range evs.Items {
			t.Logf("event %s %s %s: %s", e.InvolvedObject.Name, e.Type, e.Reason, e.Message)
		}
	})
}
