package daemonset

import (
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func TestPlanNode(t *testing.T) {
	surgeDS := makeDS("d").rolling(intstr.FromInt32(0), intstr.FromInt32(1)).obj()
	tests := []struct {
		name   string
		node   *corev1.Node
		ds     *appsv1.DaemonSet
		pods   []*corev1.Pod
		create bool
		remove []string
		failed []string
	}{
		{name: "eligible, no pod", node: makeNode("n1").obj(), ds: makeDS("d").obj(), create: true},
		{name: "eligible, one pod", node: makeNode("n1").obj(), ds: makeDS("d").obj(),
			pods: []*corev1.Pod{makePod("a", "n1", "h1", time.Minute).obj()}},
		{name: "duplicates: the oldest stays", node: makeNode("n1").obj(), ds: makeDS("d").obj(),
			pods: []*corev1.Pod{makePod("young", "n1", "h1", time.Minute).obj(), makePod("old", "n1", "h1", time.Hour).obj(),
				makePod("mid", "n1", "h1", 10*time.Minute).obj()},
			remove: []string{"mid", "young"}},
		{name: "duplicates: a scheduled pod beats an older unscheduled one", node: makeNode("n1").obj(), ds: makeDS("d").obj(),
			pods:   []*corev1.Pod{makePod("pending", "n1", "h1", time.Hour).unscheduled().obj(), makePod("bound", "n1", "h1", time.Minute).obj()},
			remove: []string{"pending"}},
		{name: "duplicates: equal age, by name", node: makeNode("n1").obj(), ds: makeDS("d").obj(),
			pods:   []*corev1.Pod{makePod("b", "n1", "h1", time.Minute).obj(), makePod("a", "n1", "h1", time.Minute).obj()},
			remove: []string{"b"}},
		{name: "failed pod is handed to the back-off, no new pod yet", node: makeNode("n1").obj(), ds: makeDS("d").obj(),
			pods:   []*corev1.Pod{makePod("f", "n1", "h1", time.Minute).phase(corev1.PodFailed).obj()},
			failed: []string{"f"}},
		{name: "succeeded pod is removed", node: makeNode("n1").obj(), ds: makeDS("d").obj(),
			pods:   []*corev1.Pod{makePod("s", "n1", "h1", time.Minute).phase(corev1.PodSucceeded).obj()},
			remove: []string{"s"}},
		{name: "terminating pod: wait", node: makeNode("n1").obj(), ds: makeDS("d").obj(),
			pods: []*corev1.Pod{makePod("t", "n1", "h1", time.Minute).deleting().obj()}},
		{name: "node no longer selected: pods go", node: makeNode("n1").obj(), ds: makeDS("d").nodeSelector("role", "x").obj(),
			pods:   []*corev1.Pod{makePod("a", "n1", "h1", time.Minute).obj(), makePod("t", "n1", "h1", time.Minute).deleting().obj()},
			remove: []string{"a"}},
		{name: "untolerated NoSchedule: existing pod stays", node: makeNode("n1").taint("x", corev1.TaintEffectNoSchedule).obj(),
			ds: makeDS("d").obj(), pods: []*corev1.Pod{makePod("a", "n1", "h1", time.Minute).obj()}},
		{name: "untolerated NoSchedule: no new pod", node: makeNode("n1").taint("x", corev1.TaintEffectNoSchedule).obj(), ds: makeDS("d").obj()},
		{name: "untolerated NoExecute: pod goes", node: makeNode("n1").taint("x", corev1.TaintEffectNoExecute).obj(),
			ds: makeDS("d").obj(), pods: []*corev1.Pod{makePod("a", "n1", "h1", time.Minute).obj()}, remove: []string{"a"}},
		{name: "surge: new pod not yet available, old ready: both stay", node: makeNode("n1").obj(), ds: surgeDS,
			pods: []*corev1.Pod{makePod("old", "n1", "h0", time.Hour).obj(), makePod("new", "n1", "h1", time.Second).notReady().obj()}},
		{name: "surge: new pod available: old goes", node: makeNode("n1").obj(), ds: surgeDS,
			pods:   []*corev1.Pod{makePod("old", "n1", "h0", time.Hour).obj(), makePod("new", "n1", "h1", time.Second).obj()},
			remove: []string{"old"}},
		{name: "surge: old pod not ready: old goes", node: makeNode("n1").obj(), ds: surgeDS,
			pods:   []*corev1.Pod{makePod("old", "n1", "h0", time.Hour).notReady().obj(), makePod("new", "n1", "h1", time.Second).notReady().obj()},
			remove: []string{"old"}},
		{name: "surge: extra pods of each revision go", node: makeNode("n1").obj(), ds: surgeDS,
			pods: []*corev1.Pod{makePod("old1", "n1", "h0", time.Hour).obj(), makePod("old2", "n1", "h0", time.Minute).obj(),
				makePod("new1", "n1", "h1", 3*time.Second).notReady().obj(), makePod("new2", "n1", "h1", time.Second).notReady().obj()},
			remove: []string{"old2", "new2"}},
		{name: "surge: only a failed pod: replace now", node: makeNode("n1").obj(), ds: surgeDS,
			pods:   []*corev1.Pod{makePod("f", "n1", "h0", time.Hour).phase(corev1.PodFailed).obj()},
			create: true, failed: []string{"f"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := planNode(tt.node, tt.ds, tt.pods, allowsSurge(tt.ds), "h1", metav1.NewTime(t0))
			if plan.create != tt.create {
				t.Errorf("create = %v, want %v", plan.create, tt.create)
			}
			if got := names(plan.remove); !slices.Equal(got, append([]string{}, tt.remove...)) {
				t.Errorf("remove = %v, want %v", got, tt.remove)
			}
			if got := names(plan.failed); !slices.Equal(got, append([]string{}, tt.failed...)) {
				t.Errorf("failed = %v, want %v", got, tt.failed)
			}
		})
	}
}

func TestStrandedPods(t *testing.T) {
	nodes := []*corev1.Node{makeNode("n1").obj()}
	byNode := groupByNode([]*corev1.Pod{
		makePod("here", "n1", "h", 0).unscheduled().obj(),
		makePod("gone-pending", "gone", "h", 0).unscheduled().obj(),
		makePod("gone-bound", "gone", "h", 0).obj(), // the pod GC's business
		makePod("gone-deleting", "gone", "h", 0).unscheduled().deleting().obj(),
	})
	if got := names(strandedPods(nodes, byNode)); !slices.Equal(got, []string{"gone-pending"}) {
		t.Errorf("stranded = %v, want [gone-pending]", got)
	}
}

func TestIsUpdated(t *testing.T) {
	pod := makePod("p", "n1", "h1", 0).obj()
	pod.Labels[templateGenerationLabel] = "3"
	if !isUpdated(pod, "h1", nil) {
		t.Error("same hash: want updated")
	}
	if isUpdated(pod, "h2", ptr.To[int64](4)) {
		t.Error("other hash and generation: want not updated")
	}
	if !isUpdated(pod, "h2", ptr.To[int64](3)) {
		t.Error("same template generation: want updated")
	}
	if isUpdated(pod, "", nil) {
		t.Error("no hash, no generation: want not updated")
	}
}

func TestPodTemplate(t *testing.T) {
	ds := makeDS("d").obj()
	ds.Annotations[appsv1.DeprecatedTemplateGeneration] = "7"
	tmpl := podTemplate(ds, "abc")
	if tmpl.Labels[appsv1.ControllerRevisionHashLabelKey] != "abc" || tmpl.Labels[templateGenerationLabel] != "7" || tmpl.Labels["app"] != "d" {
		t.Errorf("labels = %v", tmpl.Labels)
	}
	if len(tmpl.Spec.Tolerations) != 6 {
		t.Errorf("tolerations = %d, want 6", len(tmpl.Spec.Tolerations))
	}
	if len(ds.Spec.Template.Labels) != 1 || len(ds.Spec.Template.Spec.Tolerations) != 0 {
		t.Error("podTemplate modified the DaemonSet")
	}
}
