package deployment

import (
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
)

// The annotations the controller keeps on deployments and replica sets.
const (
	// RevisionAnnotation numbers the rollouts: the new replica set gets
	// one more than the highest of the old ones, and the deployment
	// carries its new replica set's number.
	RevisionAnnotation = "deployment.kubernetes.io/revision"
	// RevisionHistoryAnnotation lists, comma separated, the revisions a
	// replica set had before it became the new one again (a rollback).
	RevisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
	// DesiredReplicasAnnotation is the deployment's replicas when the
	// replica set was last sized.
	DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
	// MaxReplicasAnnotation is replicas plus maxSurge at that time; it is
	// the base of proportional scaling.
	MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas"
)

// maxHistoryChars bounds the revision-history annotation.
const maxHistoryChars = 2000

// notCopied are the deployment annotations that are not carried over to
// its replica sets.
var notCopied = map[string]bool{
	"kubectl.kubernetes.io/last-applied-configuration": true,
	RevisionAnnotation:          true,
	RevisionHistoryAnnotation:   true,
	DesiredReplicasAnnotation:   true,
	MaxReplicasAnnotation:       true,
	appsv1.DeprecatedRollbackTo: true,
}

// revision is a replica set's revision number, 0 when it has none.
func revision(rs *appsv1.ReplicaSet) int64 {
	n, err := strconv.ParseInt(rs.Annotations[RevisionAnnotation], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

func maxRevision(rss []*appsv1.ReplicaSet) int64 {
	var m int64
	for _, rs := range rss {
		m = max(m, revision(rs))
	}
	return m
}

// copyAnnotations copies the deployment's annotations (such as
// kubernetes.io/change-cause) to the replica set.
func copyAnnotations(d *appsv1.Deployment, rs *appsv1.ReplicaSet) bool {
	changed := false
	for k, v := range d.Annotations {
		if notCopied[k] {
			continue
		}
		if cur, ok := rs.Annotations[k]; ok && cur == v {
			continue
		}
		if rs.Annotations == nil {
			rs.Annotations = map[string]string{}
		}
		rs.Annotations[k] = v
		changed = true
	}
	return changed
}

// setNewRSAnnotations brings the new replica set's annotations up to date:
// the deployment's annotations, the revision (raised to rev when lower,
// recording the old number in the history), and, for one about to be
// created, the replica counts. It reports whether anything changed.
func setNewRSAnnotations(d *appsv1.Deployment, rs *appsv1.ReplicaSet, rev int64, exists bool) bool {
	changed := copyAnnotations(d, rs)
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	oldText, had := rs.Annotations[RevisionAnnotation]
	old, err := strconv.ParseInt(oldText, 10, 64)
	if err != nil {
		if oldText != "" {
			return changed
		}
		old = 0
	}
	if old < rev {
		rs.Annotations[RevisionAnnotation] = strconv.FormatInt(rev, 10)
		changed = true
		if had {
			rs.Annotations[RevisionHistoryAnnotation] = appendHistory(rs.Annotations[RevisionHistoryAnnotation], oldText)
		}
	}
	if !exists && setReplicasAnnotations(rs, desired(d), desired(d)+maxSurge(d)) {
		changed = true
	}
	return changed
}

// appendHistory adds rev to a comma-separated history, dropping the
// oldest entries to stay within maxHistoryChars.
func appendHistory(history, rev string) string {
	if history == "" {
		return rev
	}
	revs := append(strings.Split(history, ","), rev)
	for len(revs) > 1 && len(strings.Join(revs, ",")) > maxHistoryChars {
		revs = revs[1:]
	}
	return strings.Join(revs, ",")
}

// setReplicasAnnotations records the deployment's size on a replica set.
func setReplicasAnnotations(rs *appsv1.ReplicaSet, want, most int32) bool {
	if !replicasAnnotationsNeedUpdate(rs, want, most) {
		return false
	}
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	rs.Annotations[DesiredReplicasAnnotation] = strconv.Itoa(int(want))
	rs.Annotations[MaxReplicasAnnotation] = strconv.Itoa(int(most))
	return true
}

func replicasAnnotationsNeedUpdate(rs *appsv1.ReplicaSet, want, most int32) bool {
	return rs.Annotations[DesiredReplicasAnnotation] != strconv.Itoa(int(want)) ||
		rs.Annotations[MaxReplicasAnnotation] != strconv.Itoa(int(most))
}

// intAnnotation reads a count annotation.
func intAnnotation(rs *appsv1.ReplicaSet, key string) (int32, bool) {
	v, ok := rs.Annotations[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, false
	}
	return int32(n), true
}

// setDeploymentRevision records rev on the deployment.
func setDeploymentRevision(d *appsv1.Deployment, rev string) bool {
	if d.Annotations[RevisionAnnotation] == rev {
		return false
	}
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations[RevisionAnnotation] = rev
	return true
}
