package disruption

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/kubectl/pkg/util/podutils"
)

// The budget arithmetic, over snapshots: no IO here.

// controllerScale is one controller and its spec.replicas.
type controllerScale struct {
	uid      types.UID
	replicas int32
}

// scaleFinder returns the scale of the controller a pod's controllerRef
// names, nil when it knows no such controller.
type scaleFinder func(ref *metav1.OwnerReference, namespace string) (*controllerScale, error)

// expectedAndDesired is how many pods a budget expects and how many of
// them must stay healthy. An integer minAvailable counts the pods that
// exist; a percentage, and maxUnavailable, scale against the sum of the
// pods' controllers' replicas, which scale is asked for only then.
// Percentages round up.
func expectedAndDesired(spec policyv1.PodDisruptionBudgetSpec, pods int32, scale func() (int32, error)) (expected, desired int32, err error) {
	switch {
	case spec.MaxUnavailable != nil:
		expected, err = scale()
		if err != nil {
			return 0, 0, err
		}
		maxUnavailable, err := intstr.GetScaledValueFromIntOrPercent(spec.MaxUnavailable, int(expected), true)
		if err != nil {
			return 0, 0, err
		}
		return expected, max(0, expected-int32(maxUnavailable)), nil
	case spec.MinAvailable != nil && spec.MinAvailable.Type == intstr.Int:
		return pods, spec.MinAvailable.IntVal, nil
	case spec.MinAvailable != nil:
		expected, err = scale()
		if err != nil {
			return 0, 0, err
		}
		minAvailable, err := intstr.GetScaledValueFromIntOrPercent(spec.MinAvailable, int(expected), true)
		if err != nil {
			return 0, 0, err
		}
		return expected, int32(minAvailable), nil
	}
	return 0, 0, nil
}

// expectedScale adds up the replicas of the controllers of pods, each
// controller once. Pods without a controller are returned by name: they
// count for nothing. A pod whose controller cannot be found is an error.
func expectedScale(pods []*corev1.Pod, find scaleFinder) (int32, []string, error) {
	scales := map[types.UID]int32{}
	var unmanaged []string
	for _, pod := range pods {
		ref := metav1.GetControllerOfNoCopy(pod)
		if ref == nil {
			unmanaged = append(unmanaged, pod.Name)
			continue
		}
		if _, seen := scales[ref.UID]; seen {
			continue
		}
		cs, err := find(ref, pod.Namespace)
		if err != nil {
			return 0, unmanaged, err
		}
		if cs == nil {
			return 0, unmanaged, fmt.Errorf("found no controllers for pod %q", pod.Name)
		}
		scales[cs.uid] = cs.replicas
	}
	var total int32
	for _, n := range scales {
		total += n
	}
	return total, unmanaged, nil
}

// disruptedPods keeps the entries of status.disruptedPods whose pods are
// still there, not yet being deleted, and within DeletionTimeout of their
// eviction. It also returns when the earliest kept entry expires (nil if
// none) and the pods whose entries expired without a deletion.
func disruptedPods(pdb *policyv1.PodDisruptionBudget, pods []*corev1.Pod, now time.Time) (map[string]metav1.Time, *time.Time, []*corev1.Pod) {
	kept := map[string]metav1.Time{}
	var recheck *time.Time
	var overdue []*corev1.Pod
	if pdb.Status.DisruptedPods == nil {
		return kept, nil, nil
	}
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil {
			continue
		}
		at, ok := pdb.Status.DisruptedPods[pod.Name]
		if !ok {
			continue
		}
		expires := at.Add(DeletionTimeout)
		if expires.Before(now) {
			overdue = append(overdue, pod)
			continue
		}
		if recheck == nil || expires.Before(*recheck) {
			recheck = &expires
		}
		kept[pod.Name] = at
	}
	return kept, recheck, overdue
}

// countHealthy counts the ready pods that are neither being deleted nor
// just evicted.
func countHealthy(pods []*corev1.Pod, disrupted map[string]metav1.Time, now time.Time) int32 {
	var n int32
	for _, pod := range pods {
		if pod.DeletionTimestamp != nil {
			continue
		}
		if at, ok := disrupted[pod.Name]; ok && at.Add(DeletionTimeout).After(now) {
			continue
		}
		if podutils.IsPodReady(pod) {
			n++
		}
	}
	return n
}

// observation is what one sync found for a budget.
type observation struct {
	expected, desired, healthy int32
	disrupted                  map[string]metav1.Time
}

// nextStatus is the status a budget should have after obs, and whether
// it differs from the current one. A budget that expects no pods allows
// no disruptions, so that the first pods to appear are safe before the
// next sync.
func nextStatus(pdb *policyv1.PodDisruptionBudget, obs observation, now time.Time) (policyv1.PodDisruptionBudgetStatus, bool) {
	allowed := obs.healthy - obs.desired
	if obs.expected <= 0 || allowed <= 0 {
		allowed = 0
	}
	cur := pdb.Status
	if cur.CurrentHealthy == obs.healthy && cur.DesiredHealthy == obs.desired && cur.ExpectedPods == obs.expected &&
		cur.DisruptionsAllowed == allowed && equality.Semantic.DeepEqual(cur.DisruptedPods, obs.disrupted) &&
		cur.ObservedGeneration == pdb.Generation && conditionUpToDate(cur) {
		return cur, false
	}
	st := policyv1.PodDisruptionBudgetStatus{
		CurrentHealthy:     obs.healthy,
		DesiredHealthy:     obs.desired,
		ExpectedPods:       obs.expected,
		DisruptionsAllowed: allowed,
		DisruptedPods:      obs.disrupted,
		ObservedGeneration: pdb.Generation,
		Conditions:         append([]metav1.Condition(nil), cur.Conditions...),
	}
	setAllowedCondition(&st, now)
	return st, true
}

// setAllowedCondition sets DisruptionAllowed from disruptionsAllowed.
func setAllowedCondition(st *policyv1.PodDisruptionBudgetStatus, now time.Time) {
	c := metav1.Condition{Type: policyv1.DisruptionAllowedCondition, Status: metav1.ConditionFalse,
		Reason: policyv1.InsufficientPodsReason, ObservedGeneration: st.ObservedGeneration,
		LastTransitionTime: metav1.NewTime(now.Truncate(time.Second))}
	if st.DisruptionsAllowed > 0 {
		c.Status, c.Reason = metav1.ConditionTrue, policyv1.SufficientPodsReason
	}
	if st.Conditions == nil {
		st.Conditions = []metav1.Condition{}
	}
	apimeta.SetStatusCondition(&st.Conditions, c)
}

// failedStatus is the fail-safe status after a sync error: no
// disruptions, and the error in a SyncFailed condition.
func failedStatus(pdb *policyv1.PodDisruptionBudget, err error, now time.Time) policyv1.PodDisruptionBudgetStatus {
	st := *pdb.Status.DeepCopy()
	st.DisruptionsAllowed = 0
	if st.Conditions == nil {
		st.Conditions = []metav1.Condition{}
	}
	apimeta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: policyv1.DisruptionAllowedCondition,
		Status: metav1.ConditionFalse, Reason: policyv1.SyncFailedReason, Message: err.Error(),
		ObservedGeneration: st.ObservedGeneration, LastTransitionTime: metav1.NewTime(now.Truncate(time.Second))})
	return st
}

// conditionUpToDate reports whether the DisruptionAllowed condition
// matches the status it describes.
func conditionUpToDate(st policyv1.PodDisruptionBudgetStatus) bool {
	c := apimeta.FindStatusCondition(st.Conditions, policyv1.DisruptionAllowedCondition)
	if c == nil || c.ObservedGeneration != st.ObservedGeneration {
		return false
	}
	if st.DisruptionsAllowed > 0 {
		return c.Status == metav1.ConditionTrue && c.Reason == policyv1.SufficientPodsReason
	}
	return c.Status == metav1.ConditionFalse && c.Reason == policyv1.InsufficientPodsReason
}
