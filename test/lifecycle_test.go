package test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	"skiff.dev/testenv"
)

// TestFinalizers: deleting an object with a finalizer marks it (200 with
// the object, as upstream); removing the finalizer removes it, and a
// watcher sees MODIFIED then DELETED.
func TestFinalizers(t *testing.T) {
	env := testenv.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cms := clientset(t, env).CoreV1().ConfigMaps("default")
	cm := configMap("held", nil)
	cm.Finalizers = []string{"example.com/hold"}
	cm, err := cms.Create(ctx, cm, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: cm.ResourceVersion, FieldSelector: "metadata.name=held"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	code, body := raw(t, env).do(http.MethodDelete, "/api/v1/namespaces/default/configmaps/held", nil)
	var marked corev1.ConfigMap
	if err := json.Unmarshal(body, &marked); err != nil || code != http.StatusOK || marked.Kind != "ConfigMap" {
		t.Fatalf("delete: %d %s (%v), want 200 with the ConfigMap", code, body, err)
	}
	if marked.DeletionTimestamp == nil || ptr.Deref(marked.DeletionGracePeriodSeconds, -1) != 0 {
		t.Errorf("delete answered deletionTimestamp %v deletionGracePeriodSeconds %v, want set and 0",
			marked.DeletionTimestamp, marked.DeletionGracePeriodSeconds)
	}
	got, err := cms.Get(ctx, "held", metav1.GetOptions{})
	if err != nil || got.DeletionTimestamp == nil {
		t.Fatalf("after delete: %v %v, want it still there, marked", got, err)
	}
	// A second delete changes nothing.
	if code, body := raw(t, env).do(http.MethodDelete, "/api/v1/namespaces/default/configmaps/held", nil); code != http.StatusOK {
		t.Errorf("second delete: %d %s", code, body)
	}
	// Only a deletion asking for orphanDependents=false that cannot finish
	// yet is 202 Accepted.
	held2 := configMap("held2", nil)
	held2.Finalizers = []string{"example.com/hold"}
	if _, err := cms.Create(ctx, held2, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	code, body = raw(t, env).do(http.MethodDelete, "/api/v1/namespaces/default/configmaps/held2",
		[]byte(`{"kind":"DeleteOptions","apiVersion":"v1","orphanDependents":false}`), "Content-Type", "application/json")
	if code != http.StatusAccepted {
		t.Errorf("delete with orphanDependents=false: %d %s, want 202", code, body)
	}

	got.Finalizers = nil
	if _, err := cms.Update(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Get(ctx, "held", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("after removing the finalizer: got %v, want NotFound", err)
	}
	for _, want := range []watch.EventType{watch.Modified, watch.Deleted} {
		ev := next(t, w)
		if ev.Type != want || ev.Object.(*corev1.ConfigMap).DeletionTimestamp == nil {
			t.Fatalf("watch: %s %+v, want %s with a deletionTimestamp", ev.Type, ev.Object, want)
		}
	}
}

// TestGracefulPodDeletion: unbound pods go at once; bound ones wait for
// their grace period unless deleted again with gracePeriodSeconds=0.
func TestGracefulPodDeletion(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	pods := clientset(t, env).CoreV1().Pods("default")
	api := raw(t, env)
	if _, err := pods.Create(ctx, newPod("unbound"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if code, body := api.do(http.MethodDelete, "/api/v1/namespaces/default/pods/unbound?gracePeriodSeconds=30", nil); code != http.StatusOK {
		t.Fatalf("delete unbound: %d %s", code, body)
	}
	if _, err := pods.Get(ctx, "unbound", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a pod with no node is removed at once: got %v", err)
	}

	bound := newPod("bound")
	bound.Spec.NodeName = "n1"
	if _, err := pods.Create(ctx, bound, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	code, body := api.do(http.MethodDelete, "/api/v1/namespaces/default/pods/bound?gracePeriodSeconds=30", nil)
	var answered corev1.Pod
	if err := json.Unmarshal(body, &answered); err != nil || code != http.StatusOK || answered.Name != "bound" {
		t.Fatalf("delete bound: %d %s, want 200 with the pod", code, body)
	}
	got, err := pods.Get(ctx, "bound", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("a bound pod waits for its grace period: %v", err)
	}
	if ptr.Deref(got.DeletionGracePeriodSeconds, 0) != 30 || got.DeletionTimestamp == nil {
		t.Fatalf("deletionGracePeriodSeconds %v deletionTimestamp %v, want 30 and set", got.DeletionGracePeriodSeconds, got.DeletionTimestamp)
	}
	if d := got.DeletionTimestamp.Sub(before); d < 28*time.Second || d > 32*time.Second {
		t.Errorf("deletionTimestamp is %v after the delete, want about 30s", d)
	}
	if err := pods.Delete(ctx, "bound", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := pods.Get(ctx, "bound", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("gracePeriodSeconds=0 removes the pod: got %v", err)
	}
}

// TestPodBinding: pods/binding assigns a pod to a node once, checks the
// pod's UID when the binding names one, and records no managedFields.
func TestPodBinding(t *testing.T) {
	env := testenv.Start(t, testenv.Options{WithoutScheduler: true})
	ctx := context.Background()
	pods := clientset(t, env).CoreV1().Pods("default")
	created, err := pods.Create(ctx, newPod("p"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	binding := func(kind, node string, uid types.UID) *corev1.Binding {
		return &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "p", UID: uid},
			Target: corev1.ObjectReference{Kind: kind, Name: node}}
	}
	bind := func(node string) error {
		return pods.Bind(ctx, binding("Node", node, ""), metav1.CreateOptions{})
	}
	err = pods.Bind(ctx, binding("Node", "n1", "not-the-pods-uid"), metav1.CreateOptions{})
	if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), "Precondition failed: UID in precondition: not-the-pods-uid") {
		t.Errorf("binding with another UID: got %v, want 409 Precondition failed", err)
	}
	err = pods.Bind(ctx, binding("Pod", "n1", ""), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "target.kind") {
		t.Errorf("binding to a Pod: got %v, want 422 on target.kind", err)
	}
	if err := pods.Bind(ctx, binding("Node", "n1", created.UID), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err := pods.Get(ctx, "p", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.ManagedFields) != len(created.ManagedFields) {
		t.Errorf("binding changed managedFields: %d entries, was %d", len(p.ManagedFields), len(created.ManagedFields))
	}
	scheduled := slices.IndexFunc(p.Status.Conditions, func(c corev1.PodCondition) bool {
		return c.Type == corev1.PodScheduled && c.Status == corev1.ConditionTrue
	})
	if p.Spec.NodeName != "n1" || scheduled < 0 {
		t.Errorf("after binding: nodeName %q conditions %+v, want n1 and PodScheduled=True", p.Spec.NodeName, p.Status.Conditions)
	}
	err = bind("n2")
	if !apierrors.IsConflict(err) || !strings.Contains(err.Error(), `pods/binding "p"`) || !strings.Contains(err.Error(), `already assigned to node "n1"`) {
		t.Errorf("second binding: got %v, want 409 on pods/binding, already assigned", err)
	}
}

// TestOwnersAndPropagation: ownerReferences are kept; Orphan and
// Foreground deletion add their finalizers and leave the object marked.
func TestOwnersAndPropagation(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	cms := clientset(t, env).CoreV1().ConfigMaps("default")
	owner, err := cms.Create(ctx, configMap("owner", nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ref := metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "owner", UID: owner.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}
	dep := configMap("dependent", nil)
	dep.OwnerReferences = []metav1.OwnerReference{ref}
	if _, err := cms.Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := cms.Get(ctx, "dependent", metav1.GetOptions{})
	if err != nil || len(got.OwnerReferences) != 1 || !ownerRefEqual(got.OwnerReferences[0], ref) {
		t.Fatalf("ownerReferences: %+v (%v), want [%+v]", got.OwnerReferences, err, ref)
	}
	cases := []struct {
		policy    metav1.DeletionPropagation
		finalizer string // "" when the object goes at once
	}{
		{metav1.DeletePropagationOrphan, metav1.FinalizerOrphanDependents},
		{metav1.DeletePropagationForeground, metav1.FinalizerDeleteDependents},
		{metav1.DeletePropagationBackground, ""},
	}
	for _, c := range cases {
		t.Run(string(c.policy), func(t *testing.T) {
			name := "del-" + strings.ToLower(string(c.policy))
			if _, err := cms.Create(ctx, configMap(name, nil), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := cms.Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &c.policy}); err != nil {
				t.Fatal(err)
			}
			got, err := cms.Get(ctx, name, metav1.GetOptions{})
			if c.finalizer == "" {
				if !apierrors.IsNotFound(err) {
					t.Fatalf("got %v, want NotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.DeletionTimestamp == nil || !slices.Equal(got.Finalizers, []string{c.finalizer}) {
				t.Errorf("deletionTimestamp %v finalizers %v, want set and [%s]", got.DeletionTimestamp, got.Finalizers, c.finalizer)
			}
		})
	}
}

func ownerRefEqual(a, b metav1.OwnerReference) bool {
	return a.APIVersion == b.APIVersion && a.Kind == b.Kind && a.Name == b.Name && a.UID == b.UID &&
		ptr.Deref(a.Controller, false) == ptr.Deref(b.Controller, false) &&
		ptr.Deref(a.BlockOwnerDeletion, false) == ptr.Deref(b.BlockOwnerDeletion, false)
}

// TestNamespaceLifecycle: creates need a live namespace; a deleted one is
// Terminating and refuses new content until the namespace controller has
// emptied and removed it; system namespaces stay.
func TestNamespaceLifecycle(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	cs := clientset(t, env)
	_, err := cs.CoreV1().ConfigMaps("x").Create(ctx, configMap("c", nil), metav1.CreateOptions{})
	if !apierrors.IsNotFound(err) || !strings.Contains(err.Error(), `namespaces "x" not found`) {
		t.Fatalf("create in a missing namespace: got %v", err)
	}

	newNamespace(t, ctx, env, "doomed")
	held := configMap("held", nil)
	held.Finalizers = []string{"example.com/hold"} // keeps the namespace Terminating
	for _, cm := range []*corev1.ConfigMap{configMap("plain", nil), held} {
		if _, err := cs.CoreV1().ConfigMaps("doomed").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := cs.CoreV1().Namespaces().Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	ns, err := cs.CoreV1().Namespaces().Get(ctx, "doomed", metav1.GetOptions{})
	if err != nil || ns.Status.Phase != corev1.NamespaceTerminating || ns.DeletionTimestamp == nil {
		t.Fatalf("deleted namespace: %+v %v, want Terminating", ns, err)
	}
	_, err = cs.CoreV1().ConfigMaps("doomed").Create(ctx, configMap("late", nil), metav1.CreateOptions{})
	wantMsg := `configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated`
	if !apierrors.IsForbidden(err) || err.Error() != wantMsg {
		t.Fatalf("create in a Terminating namespace: got %v, want %q", err, wantMsg)
	}
	cause, ok := apierrors.StatusCause(err, corev1.NamespaceTerminatingCause)
	if !ok || cause.Field != "metadata.namespace" || cause.Message != "namespace doomed is being terminated" {
		t.Errorf("cause: %+v, want NamespaceTerminating on metadata.namespace", cause)
	}

	waitFor(t, "the controller deletes the content", func() bool {
		_, err := cs.CoreV1().ConfigMaps("doomed").Get(ctx, "plain", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})
	h, err := cs.CoreV1().ConfigMaps("doomed").Get(ctx, "held", metav1.GetOptions{})
	if err != nil || h.DeletionTimestamp == nil {
		t.Fatalf("held ConfigMap: %v %v, want marked for deletion", h, err)
	}
	h.Finalizers = nil
	if _, err := cs.CoreV1().ConfigMaps("doomed").Update(ctx, h, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	waitFor(t, "the namespace goes", func() bool {
		_, err := cs.CoreV1().Namespaces().Get(ctx, "doomed", metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	})

	for _, name := range []string{"default", "kube-system", "kube-public"} {
		err := cs.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
		want := `namespaces "` + name + `" is forbidden: this namespace may not be deleted`
		if !apierrors.IsForbidden(err) || err.Error() != want {
			t.Errorf("delete %s: got %v, want %q", name, err, want)
		}
	}
}
