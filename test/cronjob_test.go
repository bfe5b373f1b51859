package test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	clocktesting "k8s.io/utils/clock/testing"

	skiffnode "skiff.dev/internal/node"
	"skiff.dev/testenv"
)

// TestCronJobFiresOnSchedule runs the controller manager on an injected
// clock: stepping it past each schedule time makes the CronJob start a
// Job, and only successfulJobsHistoryLimit finished Jobs are kept. kubectl
// creates the CronJob and reads its Jobs.
func TestCronJobFiresOnSchedule(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Now())
	// Every loop runs on the stepped clock, so node lifecycle would find
	// the node silent for minutes and taint it: leave that loop out.
	env := testenv.Start(t, testenv.Options{Clock: clk, Controllers: []string{"*", "-node-lifecycle-controller"}})
	k := newKubectl(t, env)
	cs := kubernetes.NewForConfigOrDie(env.Config)
	ctx := t.Context()
	token, err := os.ReadFile(filepath.Join(env.DataDir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	nodeCtx, stopNode := context.WithCancel(ctx)
	n, err := skiffnode.Start(nodeCtx, skiffnode.Options{Server: env.Server.URL(), Token: string(token),
		NodeName: "cron-node", DataDir: t.TempDir(), Runtime: skiffnode.RuntimeSim, KubeletPort: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopNode(); _ = n.Wait() })
	k.run("wait", "--for=condition=Ready", "node/cron-node", "--timeout=60s")

	dir := t.TempDir()
	manifest := filepath.Join(dir, "cron.yaml")
	if err := os.WriteFile(manifest, []byte(`apiVersion: batch/v1
kind: CronJob
metadata: {name: tick, namespace: default}
spec:
  schedule: "*/5 * * * *"
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: 2
  jobTemplate:
    spec:
      template:
        metadata:
          annotations: {sim.skiff.dev/exit-code: "0"}
        spec:
          restartPolicy: Never
          containers: [{name: c, image: none, command: ["true"]}]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	k.run("create", "-f", manifest)
	finished := func() (int, int) {
		jobs, err := cs.BatchV1().Jobs("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, j := range jobs.Items {
			for _, c := range j.Status.Conditions {
				if c.Type == batchv1.JobComplete && c.Status == "True" {
					done++
				}
			}
		}
		return len(jobs.Items), done
	}
	time.Sleep(time.Second)
	if all, _ := finished(); all != 0 {
		t.Fatalf("%d Jobs before the first schedule time", all)
	}
	for run := 1; run <= 4; run++ {
		clk.Step(5 * time.Minute)
		deadline := time.Now().Add(30 * time.Second)
		for {
			all, done := finished()
			want := min(run, 2)
			// The newest run completes; older finished Jobs beyond the
			// limit of 2 are deleted.
			if done == want && all == want && lastScheduled(t, cs) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("run %d: %d Jobs, %d complete; want %d of each:\n%s", run, all, done, want,
					k.run("get", "jobs,cronjobs,pods", "-o", "wide")+k.run("describe", "jobs"))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	out := k.run("get", "cronjob", "tick")
	if !strings.Contains(out, "*/5 * * * *") {
		t.Errorf("kubectl get cronjob:\n%s", out)
	}
}

// lastScheduled reports whether the CronJob's status records its last
// schedule time and last successful time.
func lastScheduled(t *testing.T, cs kubernetes.Interface) bool {
	cj, err := cs.BatchV1().CronJobs("default").Get(t.Context(), "tick", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cj.Status.LastScheduleTime != nil && cj.Status.LastSuccessfulTime != nil
}
