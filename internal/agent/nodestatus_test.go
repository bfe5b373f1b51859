package agent

import (
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// TestNodeStatus: conditions follow the readings with the kubelet's
// reasons, keep their transition time while unchanged, and each change is
// an event.
func TestNodeStatus(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	healthy := hostReadings{MemoryAvailable: 4 << 30, DiskAvailable: 50, DiskCapacity: 100, InodesFree: 90, Inodes: 100,
		PIDsAvailable: 30000, PIDMax: 32768}
	in := nodeStatusInput{Capacity: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("8Gi")},
		Readings: &healthy, Now: t0, KubeletPort: 10250}

	s1, ev := nodeStatus(nil, in)
	want := map[corev1.NodeConditionType]string{
		corev1.NodeMemoryPressure: "KubeletHasSufficientMemory", corev1.NodeDiskPressure: "KubeletHasNoDiskPressure",
		corev1.NodePIDPressure: "KubeletHasSufficientPID", corev1.NodeReady: "KubeletReady"}
	for _, c := range s1.Conditions {
		if want[c.Type] != c.Reason {
			t.Errorf("%s: reason %s, want %s", c.Type, c.Reason, want[c.Type])
		}
	}
	if len(ev) != 4 || ev[3] != "NodeReady" || ev[0] != "NodeHasSufficientMemory" {
		t.Errorf("first events %v", ev)
	}
	if s1.DaemonEndpoints.KubeletEndpoint.Port != 10250 {
		t.Errorf("kubelet port %d", s1.DaemonEndpoints.KubeletEndpoint.Port)
	}
	if got := s1.Allocatable[corev1.ResourceMemory]; got.Value() != 8<<30-100<<20 {
		t.Errorf("allocatable memory %s, want capacity minus 100Mi", got.String())
	}

	// Ten seconds later, nothing changed: no event, same transitions, new
	// heartbeats, and no write needed.
	in.Now = t0.Add(10 * time.Second)
	s2, ev := nodeStatus(&s1, in)
	if len(ev) != 0 || nodeStatusChanged(&s1, &s2) {
		t.Errorf("unchanged readings: events %v, changed %v", ev, nodeStatusChanged(&s1, &s2))
	}
	if !s2.Conditions[0].LastTransitionTime.Equal(&s1.Conditions[0].LastTransitionTime) ||
		s2.Conditions[0].LastHeartbeatTime.Equal(&s1.Conditions[0].LastHeartbeatTime) {
		t.Errorf("transition/heartbeat: %v/%v then %v/%v", s1.Conditions[0].LastTransitionTime, s1.Conditions[0].LastHeartbeatTime,
			s2.Conditions[0].LastTransitionTime, s2.Conditions[0].LastHeartbeatTime)
	}

	// Low memory, a full disk, few PIDs, and a runtime that does not answer.
	bad := hostReadings{MemoryAvailable: 50 << 20, DiskAvailable: 5, DiskCapacity: 100, InodesFree: 90, Inodes: 100,
		PIDsAvailable: 100, PIDMax: 32768}
	in.Readings, in.RuntimeErr, in.Now = &bad, errors.New("down"), t0.Add(20*time.Second)
	s3, ev := nodeStatus(&s2, in)
	got := map[corev1.NodeConditionType]corev1.ConditionStatus{}
	for _, c := range s3.Conditions {
		got[c.Type] = c.Status
		if !c.LastTransitionTime.Time.Equal(in.Now) {
			t.Errorf("%s changed but kept its transition time %v", c.Type, c.LastTransitionTime)
		}
	}
	if got[corev1.NodeMemoryPressure] != corev1.ConditionTrue || got[corev1.NodeDiskPressure] != corev1.ConditionTrue ||
		got[corev1.NodePIDPressure] != corev1.ConditionTrue || got[corev1.NodeReady] != corev1.ConditionFalse {
		t.Errorf("conditions %v", got)
	}
	wantEv := []string{"NodeHasInsufficientMemory", "NodeHasDiskPressure", "NodeHasInsufficientPID", "NodeNotReady"}
	if len(ev) != len(wantEv) {
		t.Fatalf("events %v, want %v", ev, wantEv)
	}
	for i := range ev {
		if ev[i] != wantEv[i] {
			t.Errorf("events %v, want %v", ev, wantEv)
		}
	}
	if s3.Conditions[3].Message != "container runtime is down" {
		t.Errorf("NotReady message %q", s3.Conditions[3].Message)
	}
}
