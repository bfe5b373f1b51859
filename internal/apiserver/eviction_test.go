package apiserver

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSpend(t *testing.T) {
	now := metav1.Now()
	budget := func(gen, observed int64, allowed int32) *policyv1.PodDisruptionBudget {
		return &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "web", Generation: gen},
			Status: policyv1.PodDisruptionBudgetStatus{ObservedGeneration: observed, DisruptionsAllowed: allowed,
				DesiredHealthy: 2, CurrentHealthy: 2}}
	}

	next, err := spend(budget(1, 1, 2), "p", now)
	if err != nil || next.Status.DisruptionsAllowed != 1 || next.Status.DisruptedPods["p"] != now {
		t.Fatalf("spend of 2: %+v, %v", next, err)
	}
	if c := apimeta.FindStatusCondition(next.Status.Conditions, policyv1.DisruptionAllowedCondition); c != nil {
		t.Errorf("condition set while disruptions remain: %+v", c)
	}
	in := budget(1, 1, 1)
	next, err = spend(in, "p", now)
	if err != nil || next.Status.DisruptionsAllowed != 0 {
		t.Fatalf("spend of 1: %+v, %v", next, err)
	}
	if c := apimeta.FindStatusCondition(next.Status.Conditions, policyv1.DisruptionAllowedCondition); c == nil || c.Reason != policyv1.InsufficientPodsReason {
		t.Errorf("condition after the last disruption = %+v", c)
	}
	if in.Status.DisruptionsAllowed != 1 || in.Status.DisruptedPods != nil {
		t.Error("spend changed its input")
	}

	_, err = spend(budget(1, 1, 0), "p", now)
	st, ok := err.(apierrors.APIStatus)
	if !apierrors.IsTooManyRequests(err) || !ok || st.Status().Details.RetryAfterSeconds != 0 ||
		st.Status().Details.Causes[0].Message != "The disruption budget web needs 2 healthy pods and has 2 currently" {
		t.Errorf("spend of 0: %#v", err)
	}
	_, err = spend(budget(2, 1, 5), "p", now)
	st, ok = err.(apierrors.APIStatus)
	if !apierrors.IsTooManyRequests(err) || !ok || st.Status().Details.RetryAfterSeconds != 10 {
		t.Errorf("spend of an unobserved budget: %#v", err)
	}
	if _, err = spend(budget(1, 1, -1), "p", now); !apierrors.IsForbidden(err) {
		t.Errorf("spend of a negative budget: %v", err)
	}
}

func TestEvictionRules(t *testing.T) {
	pod := func(phase corev1.PodPhase, ready, deleting bool) *corev1.Pod {
		p := &corev1.Pod{Status: corev1.PodStatus{Phase: phase}}
		if ready {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		}
		if deleting {
			ts := metav1.Now()
			p.DeletionTimestamp = &ts
		}
		return p
	}
	for _, tc := range []struct {
		pod        *corev1.Pod
		irrelevant bool
		guard      bool
		name       string
	}{
		{pod(corev1.PodRunning, true, false), false, true, "running"},
		{pod(corev1.PodPending, false, false), true, true, "pending"},
		{pod(corev1.PodSucceeded, false, false), true, false, "succeeded"},
		{pod(corev1.PodFailed, false, false), true, false, "failed"},
		{pod(corev1.PodRunning, true, true), true, false, "deleting"},
	} {
		if got := budgetIrrelevant(tc.pod); got != tc.irrelevant {
			t.Errorf("%s: budgetIrrelevant = %v", tc.name, got)
		}
		if got := guardReadiness(tc.pod); got != tc.guard {
			t.Errorf("%s: guardReadiness = %v", tc.name, got)
		}
	}

	always, ifHealthy := policyv1.AlwaysAllow, policyv1.IfHealthyBudget
	healthy := policyv1.PodDisruptionBudgetStatus{CurrentHealthy: 3, DesiredHealthy: 2}
	short := policyv1.PodDisruptionBudgetStatus{CurrentHealthy: 1, DesiredHealthy: 2}
	for _, tc := range []struct {
		name   string
		ready  bool
		policy *policyv1.UnhealthyPodEvictionPolicyType
		status policyv1.PodDisruptionBudgetStatus
		want   bool
	}{
		{"ready pods always spend", true, &always, healthy, false},
		{"unready, healthy budget", false, nil, healthy, true},
		{"unready, short budget", false, nil, short, false},
		{"unready, short budget, IfHealthyBudget", false, &ifHealthy, short, false},
		{"unready, short budget, AlwaysAllow", false, &always, short, true},
		{"unready, nothing desired", false, nil, policyv1.PodDisruptionBudgetStatus{}, false},
	} {
		pdb := &policyv1.PodDisruptionBudget{Spec: policyv1.PodDisruptionBudgetSpec{UnhealthyPodEvictionPolicy: tc.policy}, Status: tc.status}
		if got := unhealthyEvictable(pod(corev1.PodRunning, tc.ready, false), pdb); got != tc.want {
			t.Errorf("%s: unhealthyEvictable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestEvictionDeleteOptions(t *testing.T) {
	all := []string{metav1.DryRunAll}
	grace := int64(5)
	ev := &policyv1.Eviction{DeleteOptions: &metav1.DeleteOptions{GracePeriodSeconds: &grace}}
	opts, err := evictionDeleteOptions(ev, all)
	if err != nil || len(opts.DryRun) != 1 || *opts.GracePeriodSeconds != 5 {
		t.Errorf("query dryRun into options: %+v, %v", opts, err)
	}
	if opts, err := evictionDeleteOptions(&policyv1.Eviction{}, nil); err != nil || len(opts.DryRun) != 0 {
		t.Errorf("no options: %+v, %v", opts, err)
	}
	ev = &policyv1.Eviction{DeleteOptions: &metav1.DeleteOptions{DryRun: all}}
	if _, err := evictionDeleteOptions(ev, []string{"Other"}); err == nil {
		t.Error("conflicting dryRun accepted")
	}
	if opts, err := evictionDeleteOptions(ev, all); err != nil || len(opts.DryRun) != 1 {
		t.Errorf("matching dryRun: %+v, %v", opts, err)
	}
}
