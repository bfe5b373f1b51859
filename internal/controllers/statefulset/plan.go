package statefulset

import (
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kubectl/pkg/util/podutils"
	"k8s.io/utils/ptr"
)

// snapshot is everything one sync decides from.
type snapshot struct {
	// set is the StatefulSet as stored; current and update are copies
	// whose template is that of the current and update revision.
	set, current, update            *appsv1.StatefulSet
	currentRevision, updateRevision string
	collisionCount                  int32
	// pods are the set's pods (members it controls).
	pods []*corev1.Pod
	// claims are the namespace's PersistentVolumeClaims by name.
	claims map[string]*corev1.PersistentVolumeClaim
	now    time.Time
}

type action int

const (
	createPod    action = iota // create the pod's missing claims, then the pod
	deletePod                  // delete the pod
	createClaims               // create the missing claims of an existing pod
	relabelPod                 // restore the pod's identity labels
	fixClaims                  // make the claims' owners follow the retention policy
)

func (a action) String() string {
	return [...]string{"create", "delete", "create claims", "relabel", "fix claim owners"}[a]
}

// stage groups steps: with Parallel pod management an error in one stage
// stops the later ones, as with OrderedReady any error stops everything.
type stage int

const (
	stageReplicas stage = iota
	stageCondemnedClaims
	stageCondemned
	stageUpdate
)

// step is one write a sync makes.
type step struct {
	action action
	stage  stage
	pod    *corev1.Pod
	why    string
}

// plan is the outcome of deciding: the writes, in order, and the status.
type plan struct {
	steps  []step
	status appsv1.StatefulSetStatus
	// staleClaim is set when a pod is held back because one of its claims
	// still belongs to an earlier pod of the same name and awaits the
	// garbage collector.
	staleClaim bool
}

func created(p *corev1.Pod) bool     { return p.UID != "" }
func terminating(p *corev1.Pod) bool { return p.DeletionTimestamp != nil }
func runningReady(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodRunning && podutils.IsPodReady(p)
}
func healthy(p *corev1.Pod) bool { return runningReady(p) && !terminating(p) }
func finished(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded
}

func (s *snapshot) available(p *corev1.Pod) bool {
	return podutils.IsPodAvailable(p, s.set.Spec.MinReadySeconds, metav1.NewTime(s.now))
}

func monotonic(set *appsv1.StatefulSet) bool {
	return set.Spec.PodManagementPolicy != appsv1.ParallelPodManagement
}

func partitionOf(set *appsv1.StatefulSet) int {
	if ru := set.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		return int(ptr.Deref(ru.Partition, 0))
	}
	return 0
}

// decide works out what the set needs now. Pods in the ordinal range are
// created where missing (OrderedReady: one at a time, each after all
// lower ordinals are Running, Ready and available), finished pods are
// deleted to be recreated, pods beyond the range are deleted from the
// highest ordinal (OrderedReady: one at a time, after the previous one is
// gone), and then a rolling update deletes the highest-ordinal pod at or
// above the partition that is not at the update revision, once all above
// it are healthy.
func decide(s *snapshot) plan {
	set := s.set
	start, n := startOrdinal(set), int(replicasOf(set))
	replicas := make([]*corev1.Pod, n)
	var condemned []*corev1.Pod
	for _, p := range s.pods {
		switch o := ordinalOf(p); {
		case o >= start && o < start+n:
			replicas[o-start] = p
		case o >= 0:
			condemned = append(condemned, p)
		}
	}
	for i := range replicas {
		if replicas[i] == nil {
			replicas[i] = s.newVersionedPod(start + i)
		}
	}
	sort.SliceStable(condemned, func(i, j int) bool { return ordinalOf(condemned[i]) > ordinalOf(condemned[j]) })

	pl := plan{status: s.status(append(append([]*corev1.Pod(nil), replicas...), condemned...))}
	if set.DeletionTimestamp != nil {
		return pl
	}
	var firstUnhealthy *corev1.Pod
	for _, p := range replicas {
		if !healthy(p) {
			firstUnhealthy = p
			break
		}
	}
	for i := len(condemned) - 1; i >= 0 && firstUnhealthy == nil; i-- {
		if !healthy(condemned[i]) {
			firstUnhealthy = condemned[i]
		}
	}
	ordered := monotonic(set)

	for _, p := range replicas {
		if s.replica(&pl, p, ordered) && ordered {
			return pl
		}
	}
	for _, p := range condemned {
		if !s.claimsOK(p) {
			pl.add(fixClaims, stageCondemnedClaims, p, "scaled down")
		}
	}
	for _, p := range condemned {
		if terminating(p) {
			if ordered {
				return pl
			}
			continue
		}
		if ordered && p != firstUnhealthy && (!runningReady(p) || !s.available(p)) {
			return pl
		}
		pl.add(deletePod, stageCondemned, p, "scale down")
		if ordered {
			return pl
		}
	}
	if set.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
		return pl
	}
	for i := n - 1; i >= partitionOf(set); i-- {
		p := replicas[i]
		if created(p) && revisionOf(p) != s.updateRevision && !terminating(p) {
			pl.add(deletePod, stageUpdate, p, "update")
			if revisionOf(p) == s.currentRevision {
				pl.status.CurrentReplicas--
			}
			return pl
		}
		if !healthy(p) {
			return pl
		}
	}
	return pl
}

// replica adds what one pod in the ordinal range needs and reports
// whether an ordered set must stop here.
func (s *snapshot) replica(pl *plan, p *corev1.Pod, ordered bool) bool {
	if !created(p) {
		if retentionOf(s.set).WhenScaled != retain {
			for _, c := range claimsFor(s.set, p) {
				if have := s.claims[c.Name]; have != nil && staleRef(have, p, podKind) {
					pl.staleClaim = true
					return true
				}
			}
		}
		pl.add(createPod, stageReplicas, p, "missing")
		return true
	}
	if finished(p) {
		if !terminating(p) {
			pl.add(deletePod, stageReplicas, p, "pod "+string(p.Status.Phase))
		}
		return true
	}
	if p.Status.Phase == corev1.PodPending && s.missingClaims(p) {
		pl.add(createClaims, stageReplicas, p, "missing claims")
	}
	if ordered && (terminating(p) || !runningReady(p) || !s.available(p)) {
		return true
	}
	if !identityMatches(s.set, p) {
		pl.add(relabelPod, stageReplicas, p, "identity")
	}
	if !s.claimsOK(p) {
		pl.add(fixClaims, stageReplicas, p, "retention policy")
	}
	return false
}

func (pl *plan) add(a action, st stage, p *corev1.Pod, why string) {
	pl.steps = append(pl.steps, step{action: a, stage: st, pod: p, why: why})
}

func (s *snapshot) missingClaims(p *corev1.Pod) bool {
	for _, c := range claimsFor(s.set, p) {
		if s.claims[c.Name] == nil {
			return true
		}
	}
	return false
}

// claimsOK reports whether the pod's existing claims have the owners the
// retention policy asks for.
func (s *snapshot) claimsOK(p *corev1.Pod) bool {
	for _, c := range claimsFor(s.set, p) {
		if have := s.claims[c.Name]; have != nil && !claimOwnersOK(have, s.set, p) {
			return false
		}
	}
	return true
}

// newVersionedPod makes the pod for a missing ordinal: ordinals below the
// partition of a rolling update get the current revision, others the
// update revision.
func (s *snapshot) newVersionedPod(ordinal int) *corev1.Pod {
	cur := s.current
	if cur.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType {
		limit := startOrdinal(cur) + int(cur.Status.CurrentReplicas)
		if cur.Spec.UpdateStrategy.RollingUpdate != nil {
			limit = startOrdinal(cur) + partitionOf(cur)
		}
		if ordinal < limit {
			return newPod(cur, ordinal, s.currentRevision)
		}
	}
	return newPod(s.update, ordinal, s.updateRevision)
}

// status counts the created pods.
func (s *snapshot) status(pods []*corev1.Pod) appsv1.StatefulSetStatus {
	st := appsv1.StatefulSetStatus{
		ObservedGeneration: s.set.Generation,
		CurrentRevision:    s.currentRevision,
		UpdateRevision:     s.updateRevision,
		CollisionCount:     ptr.To(s.collisionCount),
	}
	for _, p := range pods {
		if !created(p) {
			continue
		}
		st.Replicas++
		if runningReady(p) {
			st.ReadyReplicas++
			if s.available(p) {
				st.AvailableReplicas++
			}
		}
		if !terminating(p) {
			if revisionOf(p) == s.currentRevision {
				st.CurrentReplicas++
			}
			if revisionOf(p) == s.updateRevision {
				st.UpdatedReplicas++
			}
		}
	}
	return st
}

// completeRollingUpdate makes the update revision current once every pod
// is updated and ready.
func completeRollingUpdate(set *appsv1.StatefulSet, st *appsv1.StatefulSetStatus) {
	if set.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType &&
		st.UpdatedReplicas == st.Replicas && st.ReadyReplicas == st.Replicas {
		st.CurrentReplicas = st.UpdatedReplicas
		st.CurrentRevision = st.UpdateRevision
	}
}

// statusDiffers reports whether st has news for the stored status.
func statusDiffers(set *appsv1.StatefulSet, st *appsv1.StatefulSetStatus) bool {
	o := &set.Status
	return st.ObservedGeneration > o.ObservedGeneration || st.Replicas != o.Replicas ||
		st.ReadyReplicas != o.ReadyReplicas || st.AvailableReplicas != o.AvailableReplicas ||
		st.CurrentReplicas != o.CurrentReplicas || st.UpdatedReplicas != o.UpdatedReplicas ||
		st.CurrentRevision != o.CurrentRevision || st.UpdateRevision != o.UpdateRevision ||
		ptr.Deref(st.CollisionCount, 0) != ptr.Deref(o.CollisionCount, 0)
}
