package job

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// jobWith builds a job for table tests.
func jobWith(completions, parallelism *int32, mode batchv1.CompletionMode) *batchv1.Job {
	return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "j", Namespace: "ns", UID: "ju"},
		Spec: batchv1.JobSpec{Completions: completions, Parallelism: parallelism, CompletionMode: &mode,
			BackoffLimit: ptr.To[int32](6)}}
}

func podOf(uid string, phase corev1.PodPhase, index int) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: uid, Namespace: "ns", UID: types.UID(uid),
		Finalizers: []string{batchv1.JobTrackingFinalizer}, Annotations: map[string]string{}},
		Status: corev1.PodStatus{Phase: phase}}
	if index >= 0 {
		p.Annotations[batchv1.JobCompletionIndexAnnotation] = itoa(index)
	}
	return p
}

func itoa(i int) string { return indexSet{i: true}.String() }

func TestWantActive(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		completions, parallelism *int32
		mode                     batchv1.CompletionMode
		succeeded, active        int32
		completed                string
		want                     int32
	}{
		{"parallelism bounds", ptr.To[int32](5), ptr.To[int32](2), batchv1.NonIndexedCompletion, 0, 0, "", 2},
		{"remaining bounds", ptr.To[int32](5), ptr.To[int32](2), batchv1.NonIndexedCompletion, 4, 2, "", 1},
		{"done", ptr.To[int32](5), ptr.To[int32](2), batchv1.NonIndexedCompletion, 5, 0, "", 0},
		{"work queue before success", nil, ptr.To[int32](3), batchv1.NonIndexedCompletion, 0, 1, "", 3},
		{"work queue after success keeps running ones", nil, ptr.To[int32](3), batchv1.NonIndexedCompletion, 1, 2, "", 2},
		{"indexed counts completed indexes", ptr.To[int32](3), ptr.To[int32](3), batchv1.IndexedCompletion, 0, 0, "0,2", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := jobWith(tc.completions, tc.parallelism, tc.mode)
			got := wantActive(j, tc.succeeded, tc.active, parseIndexes(tc.completed, 10), indexSet{})
			if got != tc.want {
				t.Errorf("wantActive = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	base := func() *batchv1.Job { return jobWith(ptr.To[int32](3), ptr.To[int32](1), batchv1.NonIndexedCompletion) }
	for _, tc := range []struct {
		name       string
		job        func() *batchv1.Job
		snap       snapshot
		wantType   batchv1.JobConditionType
		wantReason string
	}{
		{"running", base, snapshot{active: 1, succeeded: 1}, "", ""},
		{"completions reached", base, snapshot{succeeded: 3}, batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached},
		{"backoff limit at limit is fine", base, snapshot{failed: 6}, "", ""},
		{"backoff limit exceeded", base, snapshot{failed: 7}, batchv1.JobFailureTarget, batchv1.JobReasonBackoffLimitExceeded},
		{"failure wins over success", base, snapshot{failed: 7, succeeded: 3}, batchv1.JobFailureTarget, batchv1.JobReasonBackoffLimitExceeded},
		{"deadline", func() *batchv1.Job {
			j := base()
			j.Spec.ActiveDeadlineSeconds = ptr.To[int64](30)
			j.Status.StartTime = &metav1.Time{Time: now.Add(-31 * time.Second)}
			return j
		}, snapshot{active: 1}, batchv1.JobFailureTarget, batchv1.JobReasonDeadlineExceeded},
		{"deadline not yet", func() *batchv1.Job {
			j := base()
			j.Spec.ActiveDeadlineSeconds = ptr.To[int64](30)
			j.Status.StartTime = &metav1.Time{Time: now.Add(-29 * time.Second)}
			return j
		}, snapshot{active: 1}, "", ""},
		{"fail job rule", base, snapshot{failJob: &policyMatch{Action: batchv1.PodFailurePolicyActionFailJob, Message: "m"}},
			batchv1.JobFailureTarget, batchv1.JobReasonPodFailurePolicy},
		{"work queue done when nothing runs", func() *batchv1.Job {
			return jobWith(nil, ptr.To[int32](2), batchv1.NonIndexedCompletion)
		}, snapshot{succeeded: 1, completionsNil: true}, batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached},
		{"work queue waits for the others", func() *batchv1.Job {
			return jobWith(nil, ptr.To[int32](2), batchv1.NonIndexedCompletion)
		}, snapshot{succeeded: 1, active: 1, completionsNil: true}, "", ""},
		{"indexed all completed", func() *batchv1.Job {
			return jobWith(ptr.To[int32](3), ptr.To[int32](3), batchv1.IndexedCompletion)
		}, snapshot{completed: parseIndexes("0-2", 3), indexedMode: true}, batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached},
		{"indexed with failed indexes", func() *batchv1.Job {
			j := jobWith(ptr.To[int32](3), ptr.To[int32](3), batchv1.IndexedCompletion)
			j.Spec.BackoffLimitPerIndex = ptr.To[int32](1)
			return j
		}, snapshot{completed: parseIndexes("0,2", 3), failedIndexes: parseIndexes("1", 3), indexedMode: true},
			batchv1.JobFailureTarget, batchv1.JobReasonFailedIndexes},
		{"max failed indexes", func() *batchv1.Job {
			j := jobWith(ptr.To[int32](5), ptr.To[int32](3), batchv1.IndexedCompletion)
			j.Spec.BackoffLimitPerIndex = ptr.To[int32](1)
			j.Spec.MaxFailedIndexes = ptr.To[int32](1)
			return j
		}, snapshot{failedIndexes: parseIndexes("1,3", 5), indexedMode: true},
			batchv1.JobFailureTarget, batchv1.JobReasonMaxFailedIndexesExceeded},
		{"success policy", func() *batchv1.Job {
			j := jobWith(ptr.To[int32](5), ptr.To[int32](5), batchv1.IndexedCompletion)
			j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{{SucceededIndexes: ptr.To("0-1")}}}
			return j
		}, snapshot{completed: parseIndexes("0,1", 5), indexedMode: true},
			batchv1.JobSuccessCriteriaMet, batchv1.JobReasonSuccessPolicy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.snap
			s.job, s.now = tc.job(), now
			v := decide(s)
			if tc.wantType == "" {
				if v != nil {
					t.Fatalf("decide = %+v, want none", v)
				}
				return
			}
			if v == nil || v.Type != tc.wantType || v.Reason != tc.wantReason {
				t.Fatalf("decide = %+v, want %s/%s", v, tc.wantType, tc.wantReason)
			}
		})
	}
}

func TestTrackCountsOnce(t *testing.T) {
	j := jobWith(ptr.To[int32](3), ptr.To[int32](2), batchv1.NonIndexedCompletion)
	j.Status.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{Succeeded: []types.UID{"old"}}
	pods := []*corev1.Pod{
		podOf("old", corev1.PodSucceeded, -1),  // recorded: only released
		podOf("ok", corev1.PodSucceeded, -1),   // new success
		podOf("bad", corev1.PodFailed, -1),     // new failure
		podOf("run", corev1.PodRunning, -1),    // untouched
		podOf("gone", corev1.PodSucceeded, -1), // removal already sent
	}
	tr := track(j, pods, map[types.UID]bool{"gone": true}, false)
	if len(tr.newSucceeded) != 1 || tr.newSucceeded[0] != "ok" || len(tr.newFailed) != 1 || tr.newFailed[0] != "bad" {
		t.Fatalf("new = %v / %v", tr.newSucceeded, tr.newFailed)
	}
	if len(tr.release) != 3 || tr.failures != 1 {
		t.Fatalf("release %d pods, failures %d; want 3, 1", len(tr.release), tr.failures)
	}
	st := j.Status.DeepCopy()
	tr.record(j, st)
	// Finalizers of old, ok and bad were removed; "run" still holds one.
	flush(st, pods, map[types.UID]bool{"old": true, "ok": true, "bad": true, "gone": true})
	if st.Succeeded != 2 || st.Failed != 1 || len(st.UncountedTerminatedPods.Succeeded)+len(st.UncountedTerminatedPods.Failed) != 0 {
		t.Fatalf("after flush: %+v", st)
	}
	// The same pods seen again with a lagging cache are not counted again.
	j.Status = *st
	tr = track(j, pods, map[types.UID]bool{"old": true, "ok": true, "bad": true, "gone": true}, false)
	if len(tr.newSucceeded)+len(tr.newFailed)+len(tr.release) != 0 {
		t.Fatalf("second look found %+v", tr)
	}
}

func TestTrackFailingCountsRunningAsFailed(t *testing.T) {
	j := jobWith(ptr.To[int32](3), ptr.To[int32](2), batchv1.NonIndexedCompletion)
	tr := track(j, []*corev1.Pod{podOf("run", corev1.PodRunning, -1)}, nil, true)
	if len(tr.newFailed) != 1 || tr.failures != 0 {
		t.Fatalf("failing job: newFailed %v failures %d", tr.newFailed, tr.failures)
	}
}

func TestTrackIndexed(t *testing.T) {
	j := jobWith(ptr.To[int32](4), ptr.To[int32](4), batchv1.IndexedCompletion)
	j.Status.CompletedIndexes = "0"
	pods := []*corev1.Pod{podOf("a", corev1.PodSucceeded, 1), podOf("b", corev1.PodSucceeded, 3),
		podOf("c", corev1.PodSucceeded, 0), podOf("d", corev1.PodSucceeded, 9)}
	tr := track(j, pods, nil, false)
	st := j.Status.DeepCopy()
	tr.record(j, st)
	if st.CompletedIndexes != "0-1,3" || st.Succeeded != 3 {
		t.Fatalf("completedIndexes %q succeeded %d, want 0-1,3 and 3", st.CompletedIndexes, st.Succeeded)
	}
	if len(tr.release) != 4 {
		t.Fatalf("released %d, want all 4", len(tr.release))
	}
}

func TestTrackIgnoreRule(t *testing.T) {
	j := jobWith(ptr.To[int32](1), ptr.To[int32](1), batchv1.NonIndexedCompletion)
	j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
		Action:          batchv1.PodFailurePolicyActionIgnore,
		OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}},
	}}}
	p := podOf("p", corev1.PodFailed, -1)
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}
	tr := track(j, []*corev1.Pod{p}, nil, false)
	if len(tr.newFailed) != 0 || len(tr.release) != 1 {
		t.Fatalf("ignored failure: newFailed %v release %d", tr.newFailed, len(tr.release))
	}
}

func TestPlanIndexes(t *testing.T) {
	j := jobWith(ptr.To[int32](5), ptr.To[int32](2), batchv1.IndexedCompletion)
	run := func(uid string, ix int) *corev1.Pod { return podOf(uid, corev1.PodRunning, ix) }
	plan := planIndexes(j, []*corev1.Pod{run("a", 1), run("dup", 1), run("done", 0), run("bad", 7)},
		parseIndexes("0", 5), indexSet{}, 2)
	if len(plan.remove) != 3 {
		t.Fatalf("remove %d pods, want dup, done and bad", len(plan.remove))
	}
	if len(plan.create) != 1 || plan.create[0] != 2 {
		t.Fatalf("create %v, want [2]", plan.create)
	}
}

func TestBackoffDelay(t *testing.T) {
	for n, want := range map[int]time.Duration{0: 0, 1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second, 6: 320 * time.Second, 7: 6 * time.Minute, 30: 6 * time.Minute} {
		if got := backoffDelay(n); got != want {
			t.Errorf("backoffDelay(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestIndexSet(t *testing.T) {
	for in, want := range map[string]string{"": "", "0": "0", "0,1,2,4": "0-2,4", "3-5,1,0": "0-1,3-5", "0-2,x,7": "0-2,7", "8-12": "8-9"} {
		if got := parseIndexes(in, 10).String(); got != want {
			t.Errorf("parseIndexes(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNewPodIndexed(t *testing.T) {
	j := jobWith(ptr.To[int32](3), ptr.To[int32](3), batchv1.IndexedCompletion)
	j.Spec.Template.Spec.Containers = []corev1.Container{{Name: "c"}}
	p := newPod(j, 2, 0)
	if p.Annotations[batchv1.JobCompletionIndexAnnotation] != "2" || p.Labels[batchv1.JobCompletionIndexAnnotation] != "2" {
		t.Errorf("index annotation/label missing: %v %v", p.Annotations, p.Labels)
	}
	if p.Spec.Hostname != "j-2" || p.GenerateName != "j-2-" {
		t.Errorf("hostname %q generateName %q", p.Spec.Hostname, p.GenerateName)
	}
	if len(p.Spec.Containers[0].Env) != 1 || p.Spec.Containers[0].Env[0].Name != indexEnv {
		t.Errorf("env %v", p.Spec.Containers[0].Env)
	}
	if p.Labels[batchv1.JobNameLabel] != "j" || p.Labels[batchv1.ControllerUidLabel] != "ju" || p.Labels["job-name"] != "j" {
		t.Errorf("labels %v", p.Labels)
	}
	if !hasFinalizer(p) {
		t.Error("no tracking finalizer")
	}
	if len(j.Spec.Template.Spec.Containers[0].Env) != 0 {
		t.Error("template was changed")
	}
}
