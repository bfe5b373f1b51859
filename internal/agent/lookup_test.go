package agent

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// TestLogContainerID: which instance logs come from, and the kubelet's
// messages when there is none.
func TestLogContainerID(t *testing.T) {
	term := func(id string) *corev1.ContainerStateTerminated {
		return &corev1.ContainerStateTerminated{ContainerID: id, ExitCode: 1}
	}
	cases := []struct {
		name     string
		cs       corev1.ContainerStatus
		previous bool
		want     string
		err      string
	}{
		{"running", corev1.ContainerStatus{ContainerID: "sim://2", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
			LastTerminationState: corev1.ContainerState{Terminated: term("sim://1")}}, false, "sim://2", ""},
		{"previous", corev1.ContainerStatus{ContainerID: "sim://2", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
			LastTerminationState: corev1.ContainerState{Terminated: term("sim://1")}}, true, "sim://1", ""},
		{"no previous", corev1.ContainerStatus{ContainerID: "sim://2", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}},
			true, "", `previous terminated container "c" in pod "p" not found`},
		{"crash loop", corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
			LastTerminationState: corev1.ContainerState{Terminated: term("sim://3")}}, false, "sim://3", ""},
		{"creating", corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}},
			false, "", `container "c" in pod "p" is waiting to start: ContainerCreating`},
	}
	for _, c := range cases {
		got, err := logContainerID(&c.cs, "c", "p", c.previous)
		switch {
		case c.err != "":
			if err == nil || err.Error() != c.err || !apierrors.IsBadRequest(err) {
				t.Errorf("%s: error %v, want BadRequest %q", c.name, err, c.err)
			}
		case err != nil || got != c.want:
			t.Errorf("%s: %q %v, want %q", c.name, got, err, c.want)
		}
	}
}
