package agent

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Hard eviction thresholds, the kubelet's defaults on Linux, plus one for
// PIDs (the kubelet has none by default).
const (
	evictionMemoryAvailable = 100 << 20 // bytes
	evictionDiskPercent     = 10        // nodefs.available < 10%
	evictionInodesPercent   = 5         // nodefs.inodesFree < 5%
	evictionPIDPercent      = 5         // pid.available < 5% of pid_max
	plegThreshold           = 3 * time.Minute
)

// nodeStatusInput is everything the node's status is computed from.
type nodeStatusInput struct {
	Capacity    corev1.ResourceList
	Addresses   []corev1.NodeAddress
	Info        corev1.NodeSystemInfo
	KubeletPort int32
	// Readings are nil when the node takes none (hollow nodes).
	Readings *hostReadings
	// RuntimeErr is set when the runtime did not answer.
	RuntimeErr error
	// LastRelist is when the runtime was last listed successfully.
	LastRelist time.Time
	Now        time.Time
}

// nodeStatus computes the Node's status from the previous one and the
// inputs, and the node events its condition changes call for (reasons
// such as NodeReady or NodeHasDiskPressure). Conditions keep their
// lastTransitionTime while their status holds; lastHeartbeatTime is now.
func nodeStatus(old *corev1.NodeStatus, in nodeStatusInput) (corev1.NodeStatus, []string) {
	s := corev1.NodeStatus{
		Capacity:        in.Capacity.DeepCopy(),
		Allocatable:     allocatable(in.Capacity),
		Addresses:       in.Addresses,
		NodeInfo:        in.Info,
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: in.KubeletPort}},
	}
	if old != nil {
		s.Images, s.VolumesInUse, s.VolumesAttached, s.Config = old.Images, old.VolumesInUse, old.VolumesAttached, old.Config
	}
	r := in.Readings
	memory, disk, pids := false, false, false
	if r != nil {
		memory = r.MemoryAvailable >= 0 && r.MemoryAvailable < evictionMemoryAvailable
		disk = r.DiskCapacity > 0 && r.DiskAvailable*100 < r.DiskCapacity*evictionDiskPercent ||
			r.Inodes > 0 && r.InodesFree*100 < r.Inodes*evictionInodesPercent
		pids = r.PIDMax > 0 && r.PIDsAvailable >= 0 && r.PIDsAvailable*100 < r.PIDMax*evictionPIDPercent
	}
	var problems []string
	if in.RuntimeErr != nil {
		problems = append(problems, "container runtime is down")
	}
	if !in.LastRelist.IsZero() && in.Now.Sub(in.LastRelist) > plegThreshold {
		problems = append(problems, fmt.Sprintf("PLEG is not healthy: pleg was last seen active %v ago; threshold is %v",
			in.Now.Sub(in.LastRelist).Round(time.Millisecond), plegThreshold))
	}
	want := []corev1.NodeCondition{
		pressure(corev1.NodeMemoryPressure, memory, "KubeletHasInsufficientMemory", "kubelet has insufficient memory available",
			"KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
		pressure(corev1.NodeDiskPressure, disk, "KubeletHasDiskPressure", "kubelet has disk pressure",
			"KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
		pressure(corev1.NodePIDPressure, pids, "KubeletHasInsufficientPID", "kubelet has insufficient PID available",
			"KubeletHasSufficientPID", "kubelet has sufficient PID available"),
		{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status"},
	}
	if len(problems) > 0 {
		want[3] = corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionFalse, Reason: "KubeletNotReady",
			Message: strings.Join(problems, ", ")}
	}

	var events []string
	now := apiTime(in.Now)
	for _, c := range want {
		c.LastHeartbeatTime, c.LastTransitionTime = now, now
		var prev *corev1.NodeCondition
		if old != nil {
			for i := range old.Conditions {
				if old.Conditions[i].Type == c.Type {
					prev = &old.Conditions[i]
				}
			}
		}
		if prev != nil && prev.Status == c.Status {
			c.LastTransitionTime = prev.LastTransitionTime
		} else {
			events = append(events, nodeEvent(c))
		}
		s.Conditions = append(s.Conditions, c)
	}
	if old != nil {
		for _, c := range old.Conditions {
			if !ownedNodeCondition(c.Type) {
				s.Conditions = append(s.Conditions, c)
			}
		}
	}
	return s, events
}

// pressure builds a pressure condition.
func pressure(t corev1.NodeConditionType, on bool, onReason, onMsg, offReason, offMsg string) corev1.NodeCondition {
	if on {
		return corev1.NodeCondition{Type: t, Status: corev1.ConditionTrue, Reason: onReason, Message: onMsg}
	}
	return corev1.NodeCondition{Type: t, Status: corev1.ConditionFalse, Reason: offReason, Message: offMsg}
}

// nodeEvent is the event reason for a condition's new status.
func nodeEvent(c corev1.NodeCondition) string {
	if c.Type == corev1.NodeReady {
		if c.Status == corev1.ConditionTrue {
			return "NodeReady"
		}
		return "NodeNotReady"
	}
	return "Node" + strings.TrimPrefix(c.Reason, "Kubelet")
}

func ownedNodeCondition(t corev1.NodeConditionType) bool {
	switch t {
	case corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure:
		return true
	}
	return false
}

// allocatable is capacity minus the hard eviction thresholds and the huge
// pages taken from memory, as the kubelet computes it with no reservations.
func allocatable(capacity corev1.ResourceList) corev1.ResourceList {
	a := capacity.DeepCopy()
	if m, ok := a[corev1.ResourceMemory]; ok {
		m.Sub(*resource.NewQuantity(evictionMemoryAvailable, resource.BinarySI))
		for name, q := range capacity {
			if strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix) {
				m.Sub(q)
			}
		}
		if m.Sign() < 0 {
			m = *resource.NewQuantity(0, resource.BinarySI)
		}
		a[corev1.ResourceMemory] = m
	}
	if d, ok := a[corev1.ResourceEphemeralStorage]; ok {
		a[corev1.ResourceEphemeralStorage] = *resource.NewQuantity(d.Value()-d.Value()*evictionDiskPercent/100, resource.BinarySI)
	}
	return a
}

// nodeStatusChanged compares two statuses ignoring heartbeat times.
func nodeStatusChanged(a, b *corev1.NodeStatus) bool {
	strip := func(s *corev1.NodeStatus) *corev1.NodeStatus {
		c := s.DeepCopy()
		for i := range c.Conditions {
			c.Conditions[i].LastHeartbeatTime = apiTime(time.Time{})
		}
		return c
	}
	return !equality.Semantic.DeepEqual(strip(a), strip(b))
}
