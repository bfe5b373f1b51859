package job_test

import (
	"context"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/controllers/ctrl"
	"skiff.dev/internal/controllers/ctrltest"
	"skiff.dev/internal/controllers/job"
)

func testJob(name string, annotations map[string]string) *batchv1.Job {
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Annotations: annotations},
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
				Containers: []corev1.Container{{Name: "main", Image: "busybox", Command: []string{"true"}}}},
		}},
	}
}

func waitCondition(t *testing.T, env *ctrltest.Env, name string, ct batchv1.JobConditionType) *batchv1.Job {
	t.Helper()
	var got *batchv1.Job
	env.WaitFor(20*time.Second, name+" "+string(ct), func(ctx context.Context) (bool, error) {
		j, err := env.Client.BatchV1().Jobs("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range j.Status.Conditions {
			if c.Type == ct && c.Status == corev1.ConditionTrue {
				got = j
				return true, nil
			}
		}
		return false, nil
	})
	return got
}

// watchActive records the most pods of a job that were running at once.
func watchActive(t *testing.T, env *ctrltest.Env, jobName string) func() int {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	w, err := env.Client.CoreV1().Pods("default").Watch(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + jobName})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	most := 0
	go func() {
		defer w.Stop()
		running := map[string]bool{}
		for ev := range w.ResultChan() {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			live := ev.Type != watch.Deleted && p.DeletionTimestamp == nil &&
				p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
			if live {
				running[p.Name] = true
			} else {
				delete(running, p.Name)
			}
			mu.Lock()
			most = max(most, len(running))
			mu.Unlock()
		}
	}()
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		return most
	}
}

func TestJobs(t *testing.T) {
	defer func(base time.Duration) { job.BackoffBase = base }(job.BackoffBase)
	job.BackoffBase = 100 * time.Millisecond
	env := ctrltest.Start(t, ctrl.Options{}, nil)
	env.SimNodes(nil, "n1")
	env.Run(job.New)
	ctx := context.Background()

	t.Run("completions with bounded parallelism", func(t *testing.T) {
		most := watchActive(t, env, "par")
		j := testJob("par", map[string]string{"sim.skiff.dev/run-for": "300ms"})
		j.Spec.Completions, j.Spec.Parallelism = ptr.To[int32](5), ptr.To[int32](2)
		if _, err := env.Client.BatchV1().Jobs("default").Create(ctx, j, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		got := waitCondition(t, env, "par", batchv1.JobComplete)
		if got.Status.Succeeded != 5 || got.Status.Failed != 0 || got.Status.Active != 0 {
			t.Errorf("status succeeded=%d failed=%d active=%d, want 5/0/0", got.Status.Succeeded, got.Status.Failed, got.Status.Active)
		}
		if got.Status.CompletionTime == nil || got.Status.StartTime == nil {
			t.Error("startTime or completionTime missing")
		}
		if m := most(); m > 2 || m == 0 {
			t.Errorf("at most %d pods ran at once, want 1..2", m)
		}
		if !hasCond(got, batchv1.JobSuccessCriteriaMet) {
			t.Error("no SuccessCriteriaMet condition")
		}
		pods, err := env.Client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=par"})
		if err != nil {
			t.Fatal(err)
		}
		if len(pods.Items) != 5 {
			t.Errorf("%d pods, want 5", len(pods.Items))
		}
		for _, p := range pods.Items {
			if len(p.Finalizers) != 0 {
				t.Errorf("pod %s keeps finalizers %v", p.Name, p.Finalizers)
			}
		}
		waitEvent(t, env, "par", "Completed", "Job completed")
	})

	t.Run("failing pods exceed the backoff limit", func(t *testing.T) {
		j := testJob("fail", map[string]string{"sim.skiff.dev/exit-code": "1"})
		j.Spec.BackoffLimit = ptr.To[int32](2)
		if _, err := env.Client.BatchV1().Jobs("default").Create(ctx, j, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		got := waitCondition(t, env, "fail", batchv1.JobFailed)
		c := cond(got, batchv1.JobFailed)
		if c.Reason != batchv1.JobReasonBackoffLimitExceeded || got.Status.Failed != 3 || got.Status.Succeeded != 0 {
			t.Errorf("reason %s failed=%d succeeded=%d, want BackoffLimitExceeded, 3, 0", c.Reason, got.Status.Failed, got.Status.Succeeded)
		}
		waitEvent(t, env, "fail", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
	})

	t.Run("indexed", func(t *testing.T) {
		j := testJob("idx", map[string]string{"sim.skiff.dev/run-for": "100ms"})
		j.Spec.Completions, j.Spec.Parallelism = ptr.To[int32](3), ptr.To[int32](3)
		j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
		if _, err := env.Client.BatchV1().Jobs("default").Create(ctx, j, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		got := waitCondition(t, env, "idx", batchv1.JobComplete)
		if got.Status.CompletedIndexes != "0-2" || got.Status.Succeeded != 3 {
			t.Errorf("completedIndexes %q succeeded %d, want 0-2 and 3", got.Status.CompletedIndexes, got.Status.Succeeded)
		}
		pods, err := env.Client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=idx"})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, p := range pods.Items {
			ix := p.Annotations[batchv1.JobCompletionIndexAnnotation]
			seen[ix] = true
			if p.Spec.Hostname != "idx-"+ix {
				t.Errorf("pod %s hostname %q", p.Name, p.Spec.Hostname)
			}
		}
		if len(seen) != 3 {
			t.Errorf("indexes %v, want 0, 1, 2", seen)
		}
	})

	t.Run("active deadline", func(t *testing.T) {
		j := testJob("late", nil) // runs until stopped
		j.Spec.ActiveDeadlineSeconds = ptr.To[int64](1)
		if _, err := env.Client.BatchV1().Jobs("default").Create(ctx, j, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		got := waitCondition(t, env, "late", batchv1.JobFailed)
		if c := cond(got, batchv1.JobFailed); c.Reason != batchv1.JobReasonDeadlineExceeded || got.Status.Failed != 1 {
			t.Errorf("reason %s failed=%d, want DeadlineExceeded and the killed pod counted", c.Reason, got.Status.Failed)
		}
		if !hasCond(got, batchv1.JobFailureTarget) || got.Status.Active != 0 {
			t.Errorf("FailureTarget missing or active=%d", got.Status.Active)
		}
		waitEvent(t, env, "late", "DeadlineExceeded", "Job was active longer than specified deadline")
	})

	t.Run("suspend deletes pods", func(t *testing.T) {
		j := testJob("sus", nil) // runs until stopped
		j.Spec.Parallelism, j.Spec.Completions = ptr.To[int32](2), ptr.To[int32](2)
		if _, err := env.Client.BatchV1().Jobs("default").Create(ctx, j, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		env.WaitFor(20*time.Second, "2 active", func(ctx context.Context) (bool, error) {
			j, err := env.Client.BatchV1().Jobs("default").Get(ctx, "sus", metav1.GetOptions{})
			return err == nil && j.Status.Active == 2, err
		})
		patch := []byte(`{"spec":{"suspend":true}}`)
		if _, err := env.Client.BatchV1().Jobs("default").Patch(ctx, "sus", "application/merge-patch+json", patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		got := waitCondition(t, env, "sus", batchv1.JobSuspended)
		env.WaitFor(20*time.Second, "no pods left running", func(ctx context.Context) (bool, error) {
			pods, err := env.Client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=sus"})
			if err != nil {
				return false, err
			}
			for _, p := range pods.Items {
				if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning {
					return false, nil
				}
			}
			return true, nil
		})
		if got.Status.Failed != 0 {
			t.Errorf("suspending counted %d failures", got.Status.Failed)
		}
	})
}

func cond(j *batchv1.Job, t batchv1.JobConditionType) batchv1.JobCondition {
	for _, c := range j.Status.Conditions {
		if c.Type == t {
			return c
		}
	}
	return batchv1.JobCondition{}
}

func hasCond(j *batchv1.Job, t batchv1.JobConditionType) bool {
	return cond(j, t).Status == corev1.ConditionTrue
}

func waitEvent(t *testing.T, env *ctrltest.Env, name, reason, msg string) {
	t.Helper()
	env.WaitFor(10*time.Second, "event "+reason, func(ctx context.Context) (bool, error) {
		evs, err := env.Client.CoreV1().Events("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, e := range evs.Items {
			if e.InvolvedObject.Name == name && e.Reason == reason && e.Message == msg && e.Source.Component == job.Name {
				return true, nil
			}
		}
		return false, nil
	})
}
