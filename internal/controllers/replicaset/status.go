package replicaset

import (
	"context"
	"fmt"
	"reflect"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/kubectl/pkg/util/podutils"
	"k8s.io/utils/ptr"
)

// Condition reasons for ReplicaFailure.
const (
	ReasonFailedCreate = "FailedCreate"
	ReasonFailedDelete = "FailedDelete"
)

// computeStatus is the status rs should have given its active and
// terminating pods and the error (if any) of the sync that tried to fix
// the pod count. observedGeneration is left as it is; it is set when the
// status is written.
func computeStatus(rs *appsv1.ReplicaSet, active, terminating []*corev1.Pod, syncErr error, now time.Time) appsv1.ReplicaSetStatus {
	st := *rs.Status.DeepCopy()
	template := labels.SelectorFromSet(rs.Spec.Template.Labels)
	var labeled, ready, available int32
	for _, p := range active {
		if template.Matches(labels.Set(p.Labels)) {
			labeled++
		}
		if podutils.IsPodReady(p) {
			ready++
			if podutils.IsPodAvailable(p, rs.Spec.MinReadySeconds, metav1.NewTime(now)) {
				available++
			}
		}
	}
	failure := findCondition(st.Conditions, appsv1.ReplicaSetReplicaFailure)
	switch {
	case syncErr != nil && failure < 0:
		reason := ""
		switch d := len(active) - int(replicas(rs)); {
		case d < 0:
			reason = ReasonFailedCreate
		case d > 0:
			reason = ReasonFailedDelete
		}
		st.Conditions = append(st.Conditions, appsv1.ReplicaSetCondition{
			Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(now), Reason: reason, Message: syncErr.Error(),
		})
	case syncErr == nil && failure >= 0:
		st.Conditions = append(st.Conditions[:failure:failure], st.Conditions[failure+1:]...)
		if len(st.Conditions) == 0 {
			st.Conditions = nil
		}
	}
	st.Replicas = int32(len(active))
	st.FullyLabeledReplicas = labeled
	st.ReadyReplicas = ready
	st.AvailableReplicas = available
	st.TerminatingReplicas = ptr.To(int32(len(terminating)))
	return st
}

func findCondition(cs []appsv1.ReplicaSetCondition, t appsv1.ReplicaSetConditionType) int {
	for i := range cs {
		if cs[i].Type == t {
			return i
		}
	}
	return -1
}

// replicas is spec.replicas, 1 when unset (the API server defaults it).
func replicas(rs *appsv1.ReplicaSet) int32 {
	return ptr.Deref(rs.Spec.Replicas, 1)
}

// statusCurrent reports whether rs already carries st for its current
// generation, so no write is needed.
func statusCurrent(rs *appsv1.ReplicaSet, st appsv1.ReplicaSetStatus) bool {
	old := rs.Status
	return old.Replicas == st.Replicas &&
		old.FullyLabeledReplicas == st.FullyLabeledReplicas &&
		old.ReadyReplicas == st.ReadyReplicas &&
		old.AvailableReplicas == st.AvailableReplicas &&
		ptr.Equal(old.TerminatingReplicas, st.TerminatingReplicas) &&
		old.ObservedGeneration == rs.Generation &&
		reflect.DeepEqual(old.Conditions, st.Conditions)
}

// writeStatus stores st (with observedGeneration) unless it is current.
// On a failed write it re-reads the ReplicaSet once and tries again, as
// the cached copy may just be stale. When the spec changed meanwhile it
// gives up instead (the change brings another sync), so observedGeneration
// never claims a generation this sync did not look at.
func (c *Controller) writeStatus(ctx context.Context, rs *appsv1.ReplicaSet, st appsv1.ReplicaSetStatus) (*appsv1.ReplicaSet, error) {
	if statusCurrent(rs, st) {
		return rs, nil
	}
	client := c.client.AppsV1().ReplicaSets(rs.Namespace)
	st.ObservedGeneration = rs.Generation
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		rs = rs.DeepCopy()
		rs.Status = st
		var updated *appsv1.ReplicaSet
		updated, err = client.UpdateStatus(ctx, rs, metav1.UpdateOptions{})
		if err == nil {
			return updated, nil
		}
		if attempt == 1 {
			break
		}
		fresh, getErr := client.Get(ctx, rs.Name, metav1.GetOptions{})
		if getErr != nil {
			return nil, fmt.Errorf("replicaset: update status of %s/%s: %w", rs.Namespace, rs.Name, getErr)
		}
		if fresh.Generation != st.ObservedGeneration {
			return nil, fmt.Errorf("replicaset: %s/%s changed during sync: %w", rs.Namespace, rs.Name, err)
		}
		rs = fresh
	}
	return nil, fmt.Errorf("replicaset: update status of %s/%s: %w", rs.Namespace, rs.Name, err)
}
