package registry

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestPodQOSClass(t *testing.T) {
	tests := []struct {
		name string
		pod  *podBuilder
		want corev1.PodQOSClass
	}{
		{"nothing set", makePod("p").container("c", "x"), corev1.PodQOSBestEffort},
		{"requests only", makePod("p").container("c", "x").resources("cpu=100m", ""), corev1.PodQOSBurstable},
		{"limits only, defaulted to requests", makePod("p").container("c", "x").resources("", "cpu=1,memory=1Gi"), corev1.PodQOSGuaranteed},
		{"equal requests and limits", makePod("p").container("c", "x").resources("cpu=1,memory=1Gi", "cpu=1,memory=1Gi"), corev1.PodQOSGuaranteed},
		{"requests below limits", makePod("p").container("c", "x").resources("cpu=500m,memory=1Gi", "cpu=1,memory=1Gi"), corev1.PodQOSBurstable},
		{"cpu limit only", makePod("p").container("c", "x").resources("", "cpu=1"), corev1.PodQOSBurstable},
		{"one guaranteed, one best effort", makePod("p").container("a", "x").resources("", "cpu=1,memory=1Gi").container("b", "x"), corev1.PodQOSBurstable},
		{"other resources ignored", makePod("p").container("c", "x").resources("ephemeral-storage=1Gi", ""), corev1.PodQOSBestEffort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := podQOSClass(tt.pod.defaulted()); got != tt.want {
				t.Errorf("QoS = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestPreparePodForCreate(t *testing.T) {
	p := makePod("p").container("c", "x").with(func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodRunning
		p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "wait"}}
	}).defaulted()
	preparePodForCreate(p)
	if p.Status.Phase != corev1.PodPending || p.Status.QOSClass != corev1.PodQOSBestEffort {
		t.Errorf("status = %+v", p.Status)
	}
	if len(p.Status.Conditions) != 1 || p.Status.Conditions[0].Reason != "SchedulingGated" {
		t.Errorf("conditions = %+v", p.Status.Conditions)
	}
}

func TestPodGracePeriod(t *testing.T) {
	bound := makePod("p").container("c", "x").node("n1")
	tests := []struct {
		name string
		pod  *corev1.Pod
		opts *metav1.DeleteOptions
		want int64
	}{
		{"unscheduled", makePod("p").container("c", "x").defaulted(), nil, 0},
		{"bound, spec default", bound.defaulted(), nil, 30},
		{"bound, client value", bound.defaulted(), &metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(5))}, 5},
		{"bound, client zero", bound.defaulted(), &metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(0))}, 0},
		{"succeeded", makePod("p").container("c", "x").node("n1").phase(corev1.PodSucceeded).defaulted(), nil, 0},
		{"failed", makePod("p").container("c", "x").node("n1").phase(corev1.PodFailed).defaulted(), nil, 0},
		{"negative", bound.defaulted(), &metav1.DeleteOptions{GracePeriodSeconds: ptr.To(int64(-3))}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := podGracePeriod(tt.pod, tt.opts); got != tt.want {
				t.Errorf("grace period = %d, want %d", got, tt.want)
			}
		})
	}
}

func running(name string, ready bool, restarts int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, Ready: ready, RestartCount: restarts,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
}

func waiting(name, reason string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}
}

func terminated(name, reason string, code int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: code}}}
}

func TestPodStatusColumn(t *testing.T) {
	tests := []struct {
		name                   string
		pod                    *podBuilder
		ready, status, restart string
	}{
		{"pending", makePod("p").container("c", "x").phase(corev1.PodPending), "0/1", "Pending", "0"},
		{"running", makePod("p").container("c", "x").phase(corev1.PodRunning).with(func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{running("c", true, 0)}
		}), "1/1", "Running", "0"},
		{"image pull", makePod("p").container("c", "x").phase(corev1.PodPending).with(func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{waiting("c", "ErrImagePull")}
		}), "0/1", "ErrImagePull", "0"},
		{"crash loop", makePod("p").container("c", "x").phase(corev1.PodRunning).with(func(p *corev1.Pod) {
			s := waiting("c", "CrashLoopBackOff")
			s.RestartCount = 4
			p.Status.ContainerStatuses = []corev1.ContainerStatus{s}
		}), "0/1", "CrashLoopBackOff", "4"},
		{"completed", makePod("p").container("c", "x").phase(corev1.PodSucceeded).with(func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{terminated("c", "Completed", 0)}
		}), "0/1", "Completed", "0"},
		{"exit code", makePod("p").container("c", "x").phase(corev1.PodFailed).with(func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{terminated("c", "", 2)}
		}), "0/1", "ExitCode:2", "0"},
		{"init running", makePod("p").initContainer("i1", "x").initContainer("i2", "x").container("c", "x").phase(corev1.PodPending).with(func(p *corev1.Pod) {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{terminated("i1", "Completed", 0), running("i2", false, 0)}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{waiting("c", "PodInitializing")}
		}), "0/1", "Init:1/2", "0"},
		{"init failed", makePod("p").initContainer("i", "x").container("c", "x").phase(corev1.PodPending).with(func(p *corev1.Pod) {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{terminated("i", "Error", 1)}
		}), "0/1", "Init:Error", "0"},
		{"init crash loop", makePod("p").initContainer("i", "x").container("c", "x").phase(corev1.PodPending).with(func(p *corev1.Pod) {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{waiting("i", "CrashLoopBackOff")}
		}), "0/1", "Init:CrashLoopBackOff", "0"},
		{"sidecar counts", makePod("p").sidecar("s", "x").container("c", "x").phase(corev1.PodRunning).with(func(p *corev1.Pod) {
			s := running("s", true, 0)
			s.Started = ptr.To(true)
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{s}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{running("c", true, 0)}
		}), "2/2", "Running", "0"},
		{"terminating", makePod("p").container("c", "x").phase(corev1.PodRunning).with(func(p *corev1.Pod) {
			p.DeletionTimestamp = &metav1.Time{Time: time.Now()}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{running("c", true, 0)}
		}), "1/1", "Terminating", "0"},
		{"node lost", makePod("p").container("c", "x").phase(corev1.PodRunning).with(func(p *corev1.Pod) {
			p.DeletionTimestamp = &metav1.Time{Time: time.Now()}
			p.Status.Reason = "NodeLost"
		}), "0/1", "Unknown", "0"},
		{"evicted", makePod("p").container("c", "x").phase(corev1.PodFailed).with(func(p *corev1.Pod) {
			p.Status.Reason = "Evicted"
		}), "0/1", "Evicted", "0"},
		{"scheduling gated", makePod("p").container("c", "x").phase(corev1.PodPending).with(func(p *corev1.Pod) {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "SchedulingGated"}}
		}), "0/1", "SchedulingGated", "0"},
		{"one done one running", makePod("p").container("a", "x").container("b", "x").phase(corev1.PodRunning).with(func(p *corev1.Pod) {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse}}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{running("a", true, 0), terminated("b", "Completed", 0)}
		}), "1/2", "NotReady", "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := podRow(tt.pod.obj())
			if row[1] != tt.ready || row[2] != tt.status || row[3] != tt.restart {
				t.Errorf("READY STATUS RESTARTS = %v %v %v, want %s %s %s", row[1], row[2], row[3], tt.ready, tt.status, tt.restart)
			}
		})
	}
}

func TestPodRestartsWithLastRestart(t *testing.T) {
	p := makePod("p").container("c", "x").phase(corev1.PodRunning).with(func(p *corev1.Pod) {
		s := running("c", true, 3)
		s.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{FinishedAt: metav1.NewTime(time.Now().Add(-5 * time.Minute))}
		p.Status.ContainerStatuses = []corev1.ContainerStatus{s}
	}).obj()
	if got := podRow(p)[3]; got != "3 (5m ago)" {
		t.Errorf("RESTARTS = %v, want 3 (5m ago)", got)
	}
}

func TestPodWideColumns(t *testing.T) {
	p := makePod("p").container("c", "x").node("n1").with(func(p *corev1.Pod) {
		p.Status.PodIPs = []corev1.PodIP{{IP: "10.0.0.5"}}
		p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "a"}, {ConditionType: "b"}}
		p.Status.Conditions = []corev1.PodCondition{{Type: "a", Status: corev1.ConditionTrue}}
	}).obj()
	row := podRow(p)
	if len(row) != len(podColumns) {
		t.Fatalf("row has %d cells for %d columns", len(row), len(podColumns))
	}
	if row[5] != "10.0.0.5" || row[6] != "n1" || row[7] != "<none>" || row[8] != "1/2" {
		t.Errorf("wide cells = %v", row[5:])
	}
}

func TestPodFields(t *testing.T) {
	f := podFields(makePod("p").container("c", "x").node("n1").phase(corev1.PodRunning).defaulted())
	if f["spec.nodeName"] != "n1" || f["status.phase"] != "Running" || f["spec.hostNetwork"] != "false" ||
		f["spec.restartPolicy"] != "Always" || f["spec.schedulerName"] != "default-scheduler" {
		t.Errorf("fields = %v", f)
	}
}
