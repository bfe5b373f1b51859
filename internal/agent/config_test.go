package agent

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"skiff.dev/internal/runtime"
)

// TestContainerConfig: what the runtime is told about a container — the
// labels that map it back to its pod, the restart count in its log path
// and metadata, $(VAR) expansion in command and args, and resources.
func TestContainerConfig(t *testing.T) {
	pod := &corev1.Pod{}
	pod.Name, pod.Namespace, pod.UID = "p", "ns", "uid-1"
	c := &corev1.Container{Name: "app", Image: "busybox", Command: []string{"echo", "$(GREETING)", "$$(GREETING)", "$(UNSET)"},
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi"),
			corev1.ResourceCPU: resource.MustParse("500m")}}}
	cfg := containerConfig(pod, c, containerSpec{Attempt: 3, Env: []*runtimeapi.KeyValue{{Key: "GREETING", Value: "hi"}}})
	if cfg.LogPath != "app/3.log" || cfg.Metadata.Attempt != 3 || cfg.Annotations[annotationRestartCount] != "3" {
		t.Errorf("log path %s attempt %d", cfg.LogPath, cfg.Metadata.Attempt)
	}
	if cfg.Labels[runtime.LabelPodUID] != "uid-1" || cfg.Labels[runtime.LabelContainerName] != "app" ||
		cfg.Labels[runtime.LabelPodNamespace] != "ns" || cfg.Labels[runtime.LabelPodName] != "p" {
		t.Errorf("labels %v", cfg.Labels)
	}
	if got := cfg.Command; got[1] != "hi" || got[2] != "$(GREETING)" || got[3] != "$(UNSET)" {
		t.Errorf("command %q", got)
	}
	res := cfg.Linux.Resources
	if res.MemoryLimitInBytes != 64<<20 || res.CpuQuota != 50000 || res.CpuPeriod != 100000 || res.CpuShares != 512 {
		t.Errorf("resources %+v", res)
	}
	sb := sandboxConfig(pod, 2, "/logs/ns_p_uid-1")
	if sb.Metadata.Attempt != 2 || sb.LogDirectory != "/logs/ns_p_uid-1" || sb.Labels[runtime.LabelPodUID] != "uid-1" {
		t.Errorf("sandbox %+v", sb)
	}
	if podLogDir("/logs", pod) != "/logs/ns_p_uid-1" {
		t.Errorf("log dir %s", podLogDir("/logs", pod))
	}
}

// TestMountMessage: volume setup errors read like the kubelet's FailedMount
// events.
func TestMountMessage(t *testing.T) {
	for in, want := range map[string]string{
		`volumes: volume "cfg": configmap "cfg" not found`: `MountVolume.SetUp failed for volume "cfg" : configmap "cfg" not found`,
		`volumes: volume "data" has unsupported type nfs`:  `volumes: volume "data" has unsupported type nfs`,
	} {
		if got := mountMessage(errors.New(in)); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

// TestOnlyStatusChanged: the agent's own status writes do not sync a pod
// again; spec, deletion and metadata changes do.
func TestOnlyStatusChanged(t *testing.T) {
	a := &corev1.Pod{}
	a.UID = "u"
	a.Spec.Containers = []corev1.Container{{Name: "c", Image: "one"}}
	b := a.DeepCopy()
	b.ResourceVersion = "7"
	b.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady}}
	if !onlyStatusChanged(a, b) {
		t.Error("a status change counts as more")
	}
	c := b.DeepCopy()
	c.Spec.Containers[0].Image = "two"
	d := b.DeepCopy()
	d.DeletionGracePeriodSeconds = new(int64)
	if onlyStatusChanged(b, c) || onlyStatusChanged(b, d) {
		t.Error("a spec or deletion change counts as a status change")
	}
}
