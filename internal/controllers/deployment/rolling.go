package deployment

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// resize is one step of a plan: set rs's replicas to to.
type resize struct {
	rs *appsv1.ReplicaSet
	to int32
}

func rollingUpdate(d *appsv1.Deployment) bool {
	return d.Spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType
}

// fenceposts resolves maxSurge (rounded up) and maxUnavailable (rounded
// down) against the deployment's replicas. Both zero is refused by
// validation; should it happen anyway, one pod may be unavailable so the
// rollout can move.
func fenceposts(d *appsv1.Deployment) (surge, unavailable int32) {
	ru := d.Spec.Strategy.RollingUpdate
	if ru == nil {
		return 0, 1
	}
	total := int(desired(d))
	s, err := intstr.GetScaledValueFromIntOrPercent(ptr.To(ptr.Deref(ru.MaxSurge, intstr.FromInt32(0))), total, true)
	if err != nil {
		s = 0
	}
	u, err := intstr.GetScaledValueFromIntOrPercent(ptr.To(ptr.Deref(ru.MaxUnavailable, intstr.FromInt32(0))), total, false)
	if err != nil {
		u = 0
	}
	if s == 0 && u == 0 {
		u = 1
	}
	return int32(s), int32(u)
}

// maxSurge is how many pods above replicas a rolling update may run.
func maxSurge(d *appsv1.Deployment) int32 {
	if !rollingUpdate(d) {
		return 0
	}
	s, _ := fenceposts(d)
	return s
}

// maxUnavailable is how many of replicas may be unavailable during a
// rolling update (never more than replicas).
func maxUnavailable(d *appsv1.Deployment) int32 {
	if !rollingUpdate(d) || desired(d) == 0 {
		return 0
	}
	_, u := fenceposts(d)
	return min(u, desired(d))
}

// newRSTarget is the size the new replica set should have now. A rolling
// update grows it as far as maxSurge allows (all replica sets together
// stay within replicas+maxSurge); Recreate gives it all replicas at once.
func newRSTarget(d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) int32 {
	cur, want := replicas(newRS), desired(d)
	if !rollingUpdate(d) {
		return want
	}
	if cur >= want {
		return want
	}
	most := want + maxSurge(d)
	total := specReplicas(all)
	if total >= most {
		return cur
	}
	return cur + min(most-total, want-cur)
}

// scaleDownOld plans the scale-down of old replica sets during a rolling
// update (old should be the active ones). It first removes unavailable old
// pods, as many as keep replicas-maxUnavailable available counting the
// new replica set's unavailable pods as lost, oldest replica set first;
// then it scales down old replica sets by as many available pods as there
// are above replicas-maxUnavailable, again oldest first.
func scaleDownOld(d *appsv1.Deployment, old []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) []resize {
	if specReplicas(old) == 0 {
		return nil
	}
	minAvailable := desired(d) - maxUnavailable(d)
	newUnavailable := replicas(newRS)
	if newRS != nil {
		newUnavailable -= newRS.Status.AvailableReplicas
	}
	budget := specReplicas(withNew(old, newRS)) - minAvailable - newUnavailable
	if budget <= 0 {
		return nil
	}
	old = byAge(old)
	size := make([]int32, len(old))
	for i, rs := range old {
		size[i] = replicas(rs)
	}

	var cleaned int32
	for i, rs := range old {
		if cleaned >= budget {
			break
		}
		unhealthy := size[i] - rs.Status.AvailableReplicas
		if size[i] == 0 || unhealthy <= 0 {
			continue
		}
		n := min(budget-cleaned, unhealthy)
		size[i] -= n
		cleaned += n
	}

	// Count a pod available only while its replica set still wants it: a
	// status that lags a scale-down must not let more pods go.
	available := min(replicas(newRS), availableOf(newRS))
	for i, rs := range old {
		available += min(size[i], rs.Status.AvailableReplicas)
	}
	if excess := available - minAvailable; excess > 0 {
		var scaled int32
		for i := range old {
			if scaled >= excess {
				break
			}
			n := min(size[i], excess-scaled)
			size[i] -= n
			scaled += n
		}
	}

	var plan []resize
	for i, rs := range old {
		if size[i] != replicas(rs) {
			plan = append(plan, resize{rs: rs, to: size[i]})
		}
	}
	return plan
}

func availableOf(rs *appsv1.ReplicaSet) int32 {
	if rs == nil {
		return 0
	}
	return rs.Status.AvailableReplicas
}
