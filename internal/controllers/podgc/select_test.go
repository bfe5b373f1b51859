package podgc

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func pod(name string, phase corev1.PodPhase, age int, node string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", CreationTimestamp: metav1.NewTime(t0.Add(time.Duration(age) * time.Second))},
		Spec:       corev1.PodSpec{NodeName: node},
		Status:     corev1.PodStatus{Phase: phase},
	}
}

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func TestTerminatedOverThreshold(t *testing.T) {
	evictedPod := pod("evicted", corev1.PodFailed, 9, "n")
	evictedPod.Status.Reason = "Evicted"
	pods := []*corev1.Pod{
		pod("running", corev1.PodRunning, 0, "n"),
		pod("pending", corev1.PodPending, 0, ""),
		pod("unknown", corev1.PodUnknown, 0, "n"),
		pod("new", corev1.PodSucceeded, 5, "n"),
		pod("old-b", corev1.PodFailed, 1, "n"),
		pod("old-a", corev1.PodSucceeded, 1, "n"),
		pod("mid", corev1.PodSucceeded, 3, "n"),
		evictedPod,
	}
	tests := []struct {
		threshold int
		want      []string
	}{
		{threshold: 6, want: nil},
		{threshold: 5, want: nil},
		{threshold: 4, want: []string{"evicted"}},
		{threshold: 3, want: []string{"evicted", "old-a"}},
		{threshold: 2, want: []string{"evicted", "old-a", "old-b"}},
		{threshold: 0, want: []string{"evicted", "old-a", "old-b", "mid", "new"}},
	}
	for _, tt := range tests {
		if got := names(terminatedOverThreshold(pods, tt.threshold)); !slices.Equal(got, tt.want) {
			t.Errorf("threshold %d: got %v, want %v", tt.threshold, got, tt.want)
		}
	}
}

func TestUnscheduledTerminating(t *testing.T) {
	now := metav1.Now()
	a := pod("deleted-unbound", corev1.PodPending, 0, "")
	a.DeletionTimestamp = &now
	b := pod("deleted-bound", corev1.PodRunning, 0, "n")
	b.DeletionTimestamp = &now
	c := pod("unbound", corev1.PodPending, 0, "")
	if got := names(unscheduledTerminating([]*corev1.Pod{a, b, c})); !slices.Equal(got, []string{"deleted-unbound"}) {
		t.Fatalf("got %v", got)
	}
}

func TestTerminatingOutOfService(t *testing.T) {
	now := metav1.Now()
	taint := []corev1.Taint{{Key: corev1.TaintNodeOutOfService, Effect: corev1.TaintEffectNoExecute}}
	notReady := []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionFalse}}
	isReady := []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	nodes := map[string]*corev1.Node{
		"oos":         {Spec: corev1.NodeSpec{Taints: taint}, Status: corev1.NodeStatus{Conditions: notReady}},
		"oos-ready":   {Spec: corev1.NodeSpec{Taints: taint}, Status: corev1.NodeStatus{Conditions: isReady}},
		"not-tainted": {Status: corev1.NodeStatus{Conditions: notReady}},
	}
	var pods []*corev1.Pod
	for _, n := range []string{"oos", "oos-ready", "not-tainted", "missing"} {
		p := pod("terminating-on-"+n, corev1.PodRunning, 0, n)
		p.DeletionTimestamp = &now
		pods = append(pods, p)
	}
	pods = append(pods, pod("alive-on-oos", corev1.PodRunning, 0, "oos"))
	if got := names(terminatingOutOfService(pods, nodes)); !slices.Equal(got, []string{"terminating-on-oos"}) {
		t.Fatalf("got %v", got)
	}
}

func TestQuarantine(t *testing.T) {
	nodes := map[string]*corev1.Node{"here": {}}
	pods := []*corev1.Pod{pod("a", corev1.PodRunning, 0, "gone"), pod("b", corev1.PodRunning, 0, "here"),
		pod("c", corev1.PodPending, 0, "")}
	missing := missingNodes(pods, nodes)
	if len(missing) != 1 || !missing["gone"] {
		t.Fatalf("missing = %v", missing)
	}
	since := map[string]time.Time{}
	q := 40 * time.Second
	if due := dueForCheck(since, missing, t0, q); len(due) != 0 {
		t.Fatalf("due at once: %v", due)
	}
	if due := dueForCheck(since, missing, t0.Add(39*time.Second), q); len(due) != 0 {
		t.Fatalf("due before the quarantine: %v", due)
	}
	if due := dueForCheck(since, missing, t0.Add(40*time.Second), q); !slices.Equal(due, []string{"gone"}) {
		t.Fatalf("due after the quarantine = %v", due)
	}
	// A node that came back is forgotten; missing again, it starts over.
	dueForCheck(since, map[string]bool{}, t0.Add(41*time.Second), q)
	if len(since) != 0 {
		t.Fatalf("forgot nothing: %v", since)
	}
	if due := dueForCheck(since, missing, t0.Add(42*time.Second), q); len(due) != 0 {
		t.Fatalf("quarantine not restarted: %v", due)
	}
	if got := names(onNodes(pods, map[string]bool{"gone": true})); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("onNodes = %v", got)
	}
}

func TestFailedPatch(t *testing.T) {
	b, err := failedPatch("u1", &corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
		Reason: "DeletionByPodGC"}, metav1.NewTime(t0))
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Metadata struct{ UID string }
		Status   corev1.PodStatus
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if p.Metadata.UID != "u1" || p.Status.Phase != corev1.PodFailed || len(p.Status.Conditions) != 1 ||
		p.Status.Conditions[0].Reason != "DeletionByPodGC" || !p.Status.Conditions[0].LastTransitionTime.Time.Equal(t0) {
		t.Fatalf("patch = %s", b)
	}
}
