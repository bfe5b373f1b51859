package ttlafterfinished_test

import (
	"context"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/controllers/ctrl"
	"skiff.dev/internal/controllers/ctrltest"
	"skiff.dev/internal/controllers/job"
	"skiff.dev/internal/controllers/ttlafterfinished"
)

func TestDeletesFinishedJob(t *testing.T) {
	env := ctrltest.Start(t, ctrl.Options{}, nil)
	env.SimNodes(nil, "n1")
	env.Run(job.New, ttlafterfinished.New)
	ctx := context.Background()
	mk := func(name string, ttl *int32) {
		j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: batchv1.JobSpec{TTLSecondsAfterFinished: ttl, Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{"sim.skiff.dev/run-for": "100ms"}},
				Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
					Containers: []corev1.Container{{Name: "main", Image: "busybox"}}}}}}
		if _, err := env.Client.BatchV1().Jobs("default").Create(ctx, j, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// A watch sees "short" complete even if the TTL controller deletes it
	// before a poll would have.
	w, err := env.Client.BatchV1().Jobs("default").Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=short"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	completed := make(chan time.Time, 1)
	go func() {
		for ev := range w.ResultChan() {
			j, ok := ev.Object.(*batchv1.Job)
			if !ok {
				continue
			}
			for _, c := range j.Status.Conditions {
				if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
					select {
					case completed <- c.LastTransitionTime.Time:
					default:
					}
				}
			}
		}
	}()
	mk("keep", nil)
	mk("short", ptr.To[int32](1))
	var finished time.Time
	select {
	case finished = <-completed:
	case <-time.After(30 * time.Second):
		t.Fatal("job short did not complete within 30s")
	}
	completeAt := func(ctx context.Context, name string) (time.Time, error) {
		j, err := env.Client.BatchV1().Jobs("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return time.Time{}, err
		}
		for _, c := range j.Status.Conditions {
			if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
				return c.LastTransitionTime.Time, nil
			}
		}
		return time.Time{}, nil
	}
	env.WaitFor(30*time.Second, "job keep finished", func(ctx context.Context) (bool, error) {
		at, err := completeAt(ctx, "keep")
		return !at.IsZero(), err
	})
	env.WaitFor(15*time.Second, "job short deleted", func(ctx context.Context) (bool, error) {
		_, err := env.Client.BatchV1().Jobs("default").Get(ctx, "short", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	// Transition times have whole seconds; allow for the rounding.
	if early := time.Until(finished.Add(time.Second)); early > time.Second {
		t.Errorf("deleted %v before its TTL ran out", early)
	}
	if _, err := env.Client.BatchV1().Jobs("default").Get(ctx, "keep", metav1.GetOptions{}); err != nil {
		t.Errorf("finished job without a TTL: %v", err)
	}
}
