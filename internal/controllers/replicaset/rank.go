package replicaset

import (
	"math"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubectl/pkg/util/podutils"
)

// DeletionCostAnnotation lets users say which pods of a ReplicaSet go
// first when it scales down: lower cost goes first.
const DeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// victims picks the n pods to delete from active when a ReplicaSet has
// too many. related are the active pods of every ReplicaSet with the same
// controller (the Deployment's old and new sets), used to prefer pods on
// nodes crowded with that workload. now anchors the age buckets.
func victims(active, related []*corev1.Pod, n int, now time.Time) []*corev1.Pod {
	if n >= len(active) {
		return active
	}
	onNode := map[string]int{}
	for _, p := range related {
		if isActive(p) {
			onNode[p.Spec.NodeName]++
		}
	}
	r := ranked{pods: append([]*corev1.Pod(nil), active...), crowd: make([]int, len(active)), now: now}
	for i, p := range r.pods {
		r.crowd[i] = onNode[p.Spec.NodeName]
	}
	sort.Sort(r)
	return r.pods[:n]
}

// ranked sorts pods so that the ones to delete first come first. The order
// is upstream's: unscheduled before scheduled; Pending, Unknown, then
// Running; not ready before ready; lower deletion cost; more of the
// workload on the same node; ready more recently; more container restarts;
// created more recently. Times are compared in power-of-two buckets of
// age, so pods of about the same age are picked evenly rather than always
// the very newest.
type ranked struct {
	pods  []*corev1.Pod
	crowd []int
	now   time.Time
}

func (r ranked) Len() int { return len(r.pods) }

func (r ranked) Swap(i, j int) {
	r.pods[i], r.pods[j] = r.pods[j], r.pods[i]
	r.crowd[i], r.crowd[j] = r.crowd[j], r.crowd[i]
}

func (r ranked) Less(i, j int) bool {
	a, b := r.pods[i], r.pods[j]
	if (a.Spec.NodeName == "") != (b.Spec.NodeName == "") {
		return a.Spec.NodeName == ""
	}
	if pa, pb := phaseOrder(a.Status.Phase), phaseOrder(b.Status.Phase); pa != pb {
		return pa < pb
	}
	readyA, readyB := podutils.IsPodReady(a), podutils.IsPodReady(b)
	if readyA != readyB {
		return !readyA
	}
	if ca, cb := deletionCost(a), deletionCost(b); ca != cb {
		return ca < cb
	}
	if r.crowd[i] != r.crowd[j] {
		return r.crowd[i] > r.crowd[j]
	}
	if readyA && readyB {
		if less, decided := r.newer(readySince(a), readySince(b), a, b); decided {
			return less
		}
	}
	if ra, rb := restarts(a), restarts(b); ra != rb {
		return ra.more(rb)
	}
	less, _ := r.newer(&a.CreationTimestamp, &b.CreationTimestamp, a, b)
	return less
}

// newer orders two times newest (or unset) first; decided is false when
// they are equal. With a reference time the comparison is by age bucket,
// ties inside a bucket broken by UID.
func (r ranked) newer(ta, tb *metav1.Time, a, b *corev1.Pod) (less, decided bool) {
	zeroA, zeroB := ta == nil || ta.IsZero(), tb == nil || tb.IsZero()
	if zeroA && zeroB {
		return false, false
	}
	if zeroA || zeroB {
		return zeroA, true
	}
	if ta.Equal(tb) {
		return false, false
	}
	if r.now.IsZero() {
		return ta.After(tb.Time), true
	}
	if ba, bb := ageBucket(ta.Time, r.now), ageBucket(tb.Time, r.now); ba != bb {
		return ba < bb, true
	}
	return a.UID < b.UID, true
}

// ageBucket is floor(log2(age in ns)), or -1 for a time not in the past.
func ageBucket(t, now time.Time) int {
	d := now.Sub(t)
	if d <= 0 {
		return -1
	}
	return int(math.Floor(math.Log2(float64(d))))
}

func phaseOrder(p corev1.PodPhase) int {
	switch p {
	case corev1.PodPending:
		return 0
	case corev1.PodUnknown:
		return 1
	case corev1.PodRunning:
		return 2
	}
	return 0
}

// deletionCost reads the deletion-cost annotation; missing or invalid
// values count as 0.
func deletionCost(p *corev1.Pod) int32 {
	v, ok := p.Annotations[DeletionCostAnnotation]
	if !ok {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0
	}
	return int32(n)
}

// readySince is when the pod last became ready.
func readySince(p *corev1.Pod) *metav1.Time {
	for i := range p.Status.Conditions {
		if c := &p.Status.Conditions[i]; c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return &c.LastTransitionTime
		}
	}
	return nil
}

// restartCounts are a pod's highest restart counts among its regular
// containers and among its sidecars (restartable init containers).
type restartCounts struct{ regular, sidecar int32 }

func (a restartCounts) more(b restartCounts) bool {
	if a.regular != b.regular {
		return a.regular > b.regular
	}
	return a.sidecar > b.sidecar
}

func restarts(p *corev1.Pod) restartCounts {
	var rc restartCounts
	for _, s := range p.Status.ContainerStatuses {
		rc.regular = max(rc.regular, s.RestartCount)
	}
	sidecars := map[string]bool{}
	for _, c := range p.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecars[c.Name] = true
		}
	}
	for _, s := range p.Status.InitContainerStatuses {
		if sidecars[s.Name] {
			rc.sidecar = max(rc.sidecar, s.RestartCount)
		}
	}
	return rc
}
