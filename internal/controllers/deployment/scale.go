package deployment

import (
	"math"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
)

// isScalingEvent reports whether the deployment's replicas changed since
// its active replica sets were last sized (their desired-replicas
// annotation differs).
func isScalingEvent(d *appsv1.Deployment, rss []*appsv1.ReplicaSet) bool {
	newRS, old := splitNewOld(d, rss)
	for _, rs := range active(withNew(old, newRS)) {
		if want, ok := intAnnotation(rs, DesiredReplicasAnnotation); ok && want != desired(d) {
			return true
		}
	}
	return false
}

// activeOrLatest is the one replica set that should hold every replica:
// the only active one, or the newest when none is active. With several
// active it is nil.
func activeOrLatest(newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	if newRS == nil && len(old) == 0 {
		return nil
	}
	act := active(withNew(old, newRS))
	switch len(act) {
	case 0:
		if newRS != nil {
			return newRS
		}
		sorted := byAge(old)
		return sorted[len(sorted)-1]
	case 1:
		return act[0]
	}
	return nil
}

// saturated reports whether the new replica set has all the deployment's
// replicas, sized for the current replicas, and all of them available.
func saturated(d *appsv1.Deployment, rs *appsv1.ReplicaSet) bool {
	if rs == nil {
		return false
	}
	want, ok := intAnnotation(rs, DesiredReplicasAnnotation)
	return ok && replicas(rs) == desired(d) && want == desired(d) && rs.Status.AvailableReplicas == desired(d)
}

// scalePlan sizes the replica sets to a new replica count without rolling
// out. One active replica set simply takes the new count; a saturated new
// one makes the old ones go to zero; otherwise (a rolling update in
// progress) the change is spread over the active replica sets in
// proportion to their size, leftovers going to the largest. The plan
// lists every replica set it looked at, so their replica annotations can
// be refreshed even when the size stays.
func scalePlan(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) []resize {
	if rs := activeOrLatest(newRS, old); rs != nil {
		if replicas(rs) == desired(d) {
			return nil
		}
		return []resize{{rs: rs, to: desired(d)}}
	}
	if saturated(d, newRS) {
		var plan []resize
		for _, rs := range active(old) {
			plan = append(plan, resize{rs: rs, to: 0})
		}
		return plan
	}
	if !rollingUpdate(d) {
		return nil
	}

	all := active(withNew(old, newRS))
	var allowed int32
	if desired(d) > 0 {
		allowed = desired(d) + maxSurge(d)
	}
	toAdd := allowed - specReplicas(all)
	switch {
	case toAdd > 0:
		slices.SortStableFunc(all, func(a, b *appsv1.ReplicaSet) int { return bySizeThen(a, b, -1) })
	case toAdd < 0:
		slices.SortStableFunc(all, func(a, b *appsv1.ReplicaSet) int { return bySizeThen(a, b, 1) })
	}
	plan := make([]resize, len(all))
	var added int32
	for i, rs := range all {
		p := proportion(d, rs, toAdd, added)
		plan[i] = resize{rs: rs, to: replicas(rs) + p}
		added += p
	}
	if toAdd != 0 && len(plan) > 0 {
		plan[0].to = max(plan[0].to+toAdd-added, 0)
	}
	return plan
}

// bySizeThen orders larger replica sets first; among equal sizes, older
// first when age is 1 and newer first when it is -1.
func bySizeThen(a, b *appsv1.ReplicaSet, age int) int {
	if ra, rb := replicas(a), replicas(b); ra != rb {
		if ra > rb {
			return -1
		}
		return 1
	}
	return age * olderFirst(a, b)
}

// proportion is how many replicas rs gains (or loses) of toAdd, given
// that added were already handed out.
func proportion(d *appsv1.Deployment, rs *appsv1.ReplicaSet, toAdd, added int32) int32 {
	if replicas(rs) == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	f := fraction(d, rs)
	left := toAdd - added
	if toAdd > 0 {
		return min(f, left)
	}
	return max(f, left)
}

// fraction is rs's share of the new size: its size scaled by the ratio
// of the deployment's new maximum (replicas+maxSurge) to the one it was
// sized for (the max-replicas annotation).
func fraction(d *appsv1.Deployment, rs *appsv1.ReplicaSet) int32 {
	if desired(d) == 0 {
		return -replicas(rs)
	}
	most := desired(d) + maxSurge(d)
	before, ok := intAnnotation(rs, MaxReplicasAnnotation)
	if !ok || before == 0 {
		before = d.Status.Replicas
		if before == 0 {
			return 0
		}
	}
	size := float64(replicas(rs)) * float64(most) / float64(before)
	return int32(math.Floor(size+0.5)) - replicas(rs)
}
