package agent

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/agent/probe"
)

// TestDecide covers plan cases the lifecycle scripts do not: probe kills
// under each restart policy, changed definitions, unknown states.
func TestDecide(t *testing.T) {
	app := corev1.Container{Name: "app", Image: "one", LivenessProbe: &corev1.Probe{}}
	side := corev1.Container{Name: "side", Image: "s", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways),
		LivenessProbe: &corev1.Probe{}}
	pod := func(policy corev1.RestartPolicy, inits ...corev1.Container) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: policy, InitContainers: inits, Containers: []corev1.Container{app}}}
	}
	sandbox := []sandboxState{{ID: "sb", Ready: true}}
	run := func(c corev1.Container, id string) containerState {
		return containerState{ID: id, Name: c.Name, State: stateRunning, Hash: containerHash(&c)}
	}
	failing := func(kind probe.Kind) probeView {
		return func(_, _ string, k probe.Kind) probe.Result {
			if k == kind {
				return probe.Failure
			}
			return probe.Success
		}
	}
	healthy := failing("none")
	changed := app
	changed.Image = "two"

	cases := []struct {
		name   string
		pod    *corev1.Pod
		state  podState
		probes probeView
		want   plan
	}{
		{"healthy", pod(corev1.RestartPolicyAlways), podState{Sandboxes: sandbox, Containers: []containerState{run(app, "c1")}},
			healthy, plan{}},
		{"liveness, Always", pod(corev1.RestartPolicyAlways), podState{Sandboxes: sandbox, Containers: []containerState{run(app, "c1")}},
			failing(probe.Liveness), plan{Start: []int{0},
				Kill: []killSpec{{ID: "c1", Name: "app", Message: "Container app failed liveness probe, will be restarted", Reason: killLiveness}}}},
		{"liveness, Never", pod(corev1.RestartPolicyNever), podState{Sandboxes: sandbox, Containers: []containerState{run(app, "c1")}},
			failing(probe.Liveness), plan{KillPod: true,
				Kill: []killSpec{{ID: "c1", Name: "app", Message: "Container app failed liveness probe", Reason: killLiveness}}}},
		{"startup, OnFailure", pod(corev1.RestartPolicyOnFailure), podState{Sandboxes: sandbox, Containers: []containerState{run(app, "c1")}},
			failing(probe.Startup), plan{Start: []int{0},
				Kill: []killSpec{{ID: "c1", Name: "app", Message: "Container app failed startup probe, will be restarted", Reason: killStartup}}}},
		{"definition changed, Never", pod(corev1.RestartPolicyNever), podState{Sandboxes: sandbox, Containers: []containerState{run(changed, "c1")}},
			healthy, plan{Start: []int{0}, Kill: []killSpec{{ID: "c1", Name: "app", Message: "Container app definition changed, will be restarted"}}}},
		{"unknown state", pod(corev1.RestartPolicyAlways), podState{Sandboxes: sandbox,
			Containers: []containerState{{ID: "c1", Name: "app", State: stateUnknown}}},
			healthy, plan{Start: []int{0}, Kill: []killSpec{{ID: "c1", Name: "app", Message: `Container is in "unknown" state, try killing it before restart`}}}},
		{"sidecar liveness", pod(corev1.RestartPolicyAlways, side), podState{Sandboxes: sandbox,
			Containers: []containerState{run(side, "s1"), run(app, "c1")}},
			func(name, _ string, k probe.Kind) probe.Result {
				if name == "side" && k == probe.Liveness {
					return probe.Failure
				}
				return probe.Success
			}, plan{StartInit: []int{0}, Kill: []killSpec{{ID: "s1", Name: "side", Message: "Init container side failed liveness probe", Reason: killLiveness}}}},
		{"two ready sandboxes", pod(corev1.RestartPolicyAlways), podState{Sandboxes: []sandboxState{{ID: "b", Attempt: 1, Ready: true}, {ID: "a", Ready: true}},
			Containers: []containerState{run(app, "c1")}},
			healthy, plan{KillPod: true, CreateSandbox: true, SandboxAttempt: 2, Start: []int{0}}},
	}
	for _, c := range cases {
		c.state.sortNewestFirst()
		if got := decide(c.pod, &c.state, c.probes); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
}
