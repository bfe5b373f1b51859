package daemonset_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/util/retry"
	"k8s.io/kubectl/pkg/util/podutils"

	"skiff.dev/internal/controllers/ctrl"
	"skiff.dev/internal/controllers/ctrltest"
	"skiff.dev/internal/controllers/daemonset"
)

const ns = "default"

func newDS(name string) *appsv1.DaemonSet {
	lbls := map[string]string{"app": name}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: lbls},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: lbls},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
			},
		},
	}
}

// podsOf lists the live pods of a DaemonSet by node.
func podsOf(ctx context.Context, env *ctrltest.Env, name string) (map[string][]corev1.Pod, error) {
	list, err := env.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=" + name})
	if err != nil {
		return nil, err
	}
	out := map[string][]corev1.Pod{}
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out[p.Spec.NodeName] = append(out[p.Spec.NodeName], p)
		}
	}
	return out, nil
}

// waitRunningOn waits until the DaemonSet has exactly one Running pod on
// each of nodes and none elsewhere.
func waitRunningOn(t *testing.T, env *ctrltest.Env, name string, nodes ...string) map[string]corev1.Pod {
	t.Helper()
	var last map[string][]corev1.Pod
	env.WaitFor(20*time.Second, fmt.Sprintf("%s running on %v", name, nodes), func(ctx context.Context) (bool, error) {
		byNode, err := podsOf(ctx, env, name)
		if err != nil {
			return false, err
		}
		last = byNode
		if len(byNode) != len(nodes) {
			return false, nil
		}
		for _, n := range nodes {
			if len(byNode[n]) != 1 || byNode[n][0].Status.Phase != corev1.PodRunning {
				return false, nil
			}
		}
		return true, nil
	})
	out := map[string]corev1.Pod{}
	for n, pods := range last {
		out[n] = pods[0]
	}
	return out
}

func waitStatus(t *testing.T, env *ctrltest.Env, name string, check func(*appsv1.DaemonSet) bool) *appsv1.DaemonSet {
	t.Helper()
	var ds *appsv1.DaemonSet
	env.WaitFor(20*time.Second, "status of "+name, func(ctx context.Context) (bool, error) {
		var err error
		ds, err = env.Client.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return check(ds), nil
	})
	return ds
}

func TestDaemonSetLifecycle(t *testing.T) {
	env := ctrltest.Start(t, ctrl.Options{}, nil)
	env.SimNodes(nil, "n1", "n2")
	env.Run(daemonset.New)
	ctx := t.Context()

	created, err := env.Client.AppsV1().DaemonSets(ns).Create(ctx, newDS("agent"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pods := waitRunningOn(t, env, "agent", "n1", "n2")
	ds := waitStatus(t, env, "agent", func(ds *appsv1.DaemonSet) bool {
		s := ds.Status
		return s.ObservedGeneration == ds.Generation && s.DesiredNumberScheduled == 2 && s.CurrentNumberScheduled == 2 &&
			s.NumberReady == 2 && s.NumberAvailable == 2 && s.UpdatedNumberScheduled == 2 &&
			s.NumberMisscheduled == 0 && s.NumberUnavailable == 0
	})

	// Each pod: owned by the DaemonSet, labelled with the revision, pinned
	// to its node by affinity, with the daemon tolerations.
	revs, err := env.Client.AppsV1().ControllerRevisions(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=agent"})
	if err != nil || len(revs.Items) != 1 {
		t.Fatalf("revisions: %v, %v; want one", revs, err)
	}
	rev := revs.Items[0]
	hash := rev.Labels[appsv1.ControllerRevisionHashLabelKey]
	if rev.Name != "agent-"+hash || rev.Revision != 1 || !metav1.IsControlledBy(&rev, created) {
		t.Errorf("revision %s (revision %d, owners %v)", rev.Name, rev.Revision, rev.OwnerReferences)
	}
	for node, p := range pods {
		if !metav1.IsControlledBy(&p, created) {
			t.Errorf("pod %s not controlled by the DaemonSet: %v", p.Name, p.OwnerReferences)
		}
		if p.Labels[appsv1.ControllerRevisionHashLabelKey] != hash || p.Labels["pod-template-generation"] != "1" {
			t.Errorf("pod %s labels %v", p.Name, p.Labels)
		}
		if !strings.HasPrefix(p.Name, "agent-") {
			t.Errorf("pod name %s", p.Name)
		}
		terms := p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
		if len(terms) != 1 || len(terms[0].MatchFields) != 1 || terms[0].MatchFields[0].Values[0] != node {
			t.Errorf("pod %s on %s has required terms %+v", p.Name, node, terms)
		}
		var keys []string
		for _, tol := range p.Spec.Tolerations {
			keys = append(keys, tol.Key+":"+string(tol.Effect))
		}
		for _, want := range []string{"node.kubernetes.io/not-ready:NoExecute", "node.kubernetes.io/unreachable:NoExecute",
			"node.kubernetes.io/unschedulable:NoSchedule", "node.kubernetes.io/disk-pressure:NoSchedule"} {
			if !slices.Contains(keys, want) {
				t.Errorf("pod %s lacks toleration %s: %v", p.Name, want, keys)
			}
		}
	}
	waitEvent(t, env, ds.UID, "SuccessfulCreate", "Created pod: ")

	// A third node gets its pod.
	env.SimNodes(nil, "n3")
	pods = waitRunningOn(t, env, "agent", "n1", "n2", "n3")
	waitStatus(t, env, "agent", func(ds *appsv1.DaemonSet) bool {
		return ds.Status.DesiredNumberScheduled == 3 && ds.Status.NumberAvailable == 3
	})

	// Deleting a pod gets it replaced.
	if err := env.Client.CoreV1().Pods(ns).Delete(ctx, pods["n2"].Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	env.WaitFor(20*time.Second, "a new pod on n2", func(ctx context.Context) (bool, error) {
		byNode, err := podsOf(ctx, env, "agent")
		return err == nil && len(byNode["n2"]) == 1 && byNode["n2"][0].Name != pods["n2"].Name &&
			byNode["n2"][0].Status.Phase == corev1.PodRunning, err
	})

	// A template change rolls out one node at a time.
	rollOut(t, env, hash)
}

// rollOut changes the template of "agent" (on three nodes) and checks that
// no more than one node at a time lacks an available pod, and that every
// pod ends on the new revision.
func rollOut(t *testing.T, env *ctrltest.Env, oldHash string) {
	t.Helper()
	ctx := t.Context()
	w, err := env.Client.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{LabelSelector: "app=agent"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var mu sync.Mutex
	minAvailable := 3
	done := make(chan struct{})
	go func() {
		defer close(done)
		live := map[types.UID]*corev1.Pod{}
		for ev := range w.ResultChan() {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			if ev.Type == watch.Deleted {
				delete(live, p.UID)
			} else {
				live[p.UID] = p
			}
			nodes := map[string]bool{}
			for _, q := range live {
				if q.DeletionTimestamp == nil && q.Spec.NodeName != "" && podutils.IsPodReady(q) {
					nodes[q.Spec.NodeName] = true
				}
			}
			mu.Lock()
			if len(live) >= 3 { // the initial list has arrived
				minAvailable = min(minAvailable, len(nodes))
			}
			mu.Unlock()
		}
	}()

	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ds, err := env.Client.AppsV1().DaemonSets(ns).Get(ctx, "agent", metav1.GetOptions{})
		if err != nil {
			return err
		}
		ds.Spec.Template.Annotations = map[string]string{"version": "2"}
		_, err = env.Client.AppsV1().DaemonSets(ns).Update(ctx, ds, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, env, "agent", func(ds *appsv1.DaemonSet) bool {
		s := ds.Status
		return s.ObservedGeneration == ds.Generation && s.UpdatedNumberScheduled == 3 && s.NumberAvailable == 3 &&
			s.DesiredNumberScheduled == 3
	})
	pods := waitRunningOn(t, env, "agent", "n1", "n2", "n3")
	for _, p := range pods {
		if p.Labels[appsv1.ControllerRevisionHashLabelKey] == oldHash || p.Annotations["version"] != "2" ||
			p.Labels["pod-template-generation"] != "2" {
			t.Errorf("pod %s not updated: labels %v annotations %v", p.Name, p.Labels, p.Annotations)
		}
	}
	revs, err := env.Client.AppsV1().ControllerRevisions(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=agent"})
	if err != nil || len(revs.Items) != 2 {
		t.Fatalf("revisions after the update: %d, %v; want 2", len(revs.Items), err)
	}
	w.Stop()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if minAvailable < 2 {
		t.Errorf("during the rollout only %d of 3 nodes had a ready pod; maxUnavailable is 1", minAvailable)
	}
}

func waitEvent(t *testing.T, env *ctrltest.Env, uid types.UID, reason, prefix string) {
	t.Helper()
	env.WaitFor(20*time.Second, "event "+reason, func(ctx context.Context) (bool, error) {
		evs, err := env.Client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, e := range evs.Items {
			if e.InvolvedObject.UID == uid && e.Reason == reason && strings.HasPrefix(e.Message, prefix) &&
				e.Source.Component == daemonset.Name {
				return true, nil
			}
		}
		return false, nil
	})
}

func TestDaemonSetPlacement(t *testing.T) {
	env := ctrltest.Start(t, ctrl.Options{}, nil)
	env.SimNodes(nil, "n1", "n2")
	env.Run(daemonset.New)
	ctx := t.Context()

	patchNode(t, env, "n1", `{"metadata":{"labels":{"disk":"ssd"}}}`)
	patchNode(t, env, "n2", `{"spec":{"taints":[{"key":"dedicated","value":"db","effect":"NoSchedule"}]}}`)

	selective := newDS("ssd")
	selective.Spec.Template.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	plain := newDS("plain")
	tolerant := newDS("tolerant")
	tolerant.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual,
		Value: "db", Effect: corev1.TaintEffectNoSchedule}}
	for _, ds := range []*appsv1.DaemonSet{selective, plain, tolerant} {
		if _, err := env.Client.AppsV1().DaemonSets(ns).Create(ctx, ds, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	ssdPods := waitRunningOn(t, env, "ssd", "n1")
	waitRunningOn(t, env, "plain", "n1")
	waitRunningOn(t, env, "tolerant", "n1", "n2")
	waitStatus(t, env, "ssd", func(ds *appsv1.DaemonSet) bool {
		return ds.Status.DesiredNumberScheduled == 1 && ds.Status.NumberAvailable == 1 && ds.Status.NumberMisscheduled == 0
	})
	waitStatus(t, env, "plain", func(ds *appsv1.DaemonSet) bool {
		return ds.Status.DesiredNumberScheduled == 1 && ds.Status.CurrentNumberScheduled == 1
	})

	// A duplicate pod on n1 is adopted and, being the younger, deleted. (Its
	// name sorts after any generated one, should both be created within
	// the same second.)
	dup := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "ssd-zzzzzz", Namespace: ns, Labels: map[string]string{"app": "ssd"}},
		Spec:       corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
	if _, err := env.Client.CoreV1().Pods(ns).Create(ctx, dup, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	env.WaitFor(20*time.Second, "the duplicate deleted", func(ctx context.Context) (bool, error) {
		byNode, err := podsOf(ctx, env, "ssd")
		return err == nil && len(byNode["n1"]) == 1 && byNode["n1"][0].Name == ssdPods["n1"].Name, err
	})

	// Removing the label makes n1 ineligible: its pod goes.
	patchNode(t, env, "n1", `{"metadata":{"labels":{"disk":null}}}`)
	waitRunningOn(t, env, "ssd")
	waitStatus(t, env, "ssd", func(ds *appsv1.DaemonSet) bool {
		return ds.Status.DesiredNumberScheduled == 0 && ds.Status.CurrentNumberScheduled == 0 && ds.Status.NumberMisscheduled == 0
	})
	ds, _ := env.Client.AppsV1().DaemonSets(ns).Get(ctx, "ssd", metav1.GetOptions{})
	waitEvent(t, env, ds.UID, "SuccessfulDelete", "Deleted pod: ")

	// A cordoned node keeps and gets daemon pods (they tolerate the
	// unschedulable taint, which the node lifecycle controller adds).
	patchNode(t, env, "n1", `{"spec":{"unschedulable":true,"taints":[{"key":"node.kubernetes.io/unschedulable","effect":"NoSchedule"}]}}`)
	extra := newDS("late")
	if _, err := env.Client.AppsV1().DaemonSets(ns).Create(ctx, extra, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	late := waitRunningOn(t, env, "late", "n1")
	waitRunningOn(t, env, "plain", "n1")

	// A failed pod is deleted and replaced.
	failed := late["n1"]
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		p, err := env.Client.CoreV1().Pods(ns).Get(ctx, failed.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		p.Status.Phase = corev1.PodFailed
		_, err = env.Client.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	lateDS, _ := env.Client.AppsV1().DaemonSets(ns).Get(ctx, "late", metav1.GetOptions{})
	waitEvent(t, env, lateDS.UID, "FailedDaemonPod", "Found failed daemon pod default/"+failed.Name+" on node n1, will try to kill it")
	env.WaitFor(20*time.Second, "a replacement for the failed pod", func(ctx context.Context) (bool, error) {
		byNode, err := podsOf(ctx, env, "late")
		return err == nil && len(byNode["n1"]) == 1 && byNode["n1"][0].Name != failed.Name &&
			byNode["n1"][0].Status.Phase == corev1.PodRunning, err
	})
}

func patchNode(t *testing.T, env *ctrltest.Env, name, patch string) {
	t.Helper()
	_, err := env.Client.CoreV1().Nodes().Patch(t.Context(), name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
}
