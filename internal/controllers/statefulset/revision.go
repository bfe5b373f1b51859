package statefulset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"reflect"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/rand"

	"skiff.dev/internal/controllers/ctrl"
)

// hashLabel is the label a ControllerRevision carries with its hash.
const hashLabel = "controller.kubernetes.io/hash"

// revisionData is what a revision stores: a strategic merge patch that
// replaces spec.template with the set's template, the format upstream
// uses, so revisions written by either controller compare equal.
func revisionData(set *appsv1.StatefulSet) ([]byte, error) {
	raw, err := json.Marshal(&set.Spec.Template)
	if err != nil {
		return nil, fmt.Errorf("statefulset: encode template: %w", err)
	}
	var template map[string]any
	if err := json.Unmarshal(raw, &template); err != nil {
		return nil, fmt.Errorf("statefulset: decode template: %w", err)
	}
	template["$patch"] = "replace"
	return json.Marshal(map[string]any{"spec": map[string]any{"template": template}})
}

// revisionHash hashes a revision's data and, when set, the collision
// count, into the short form used in revision names.
func revisionHash(data []byte, collisionCount *int32) string {
	h := fnv.New32()
	h.Write(data)
	if collisionCount != nil {
		h.Write([]byte(strconv.FormatInt(int64(*collisionCount), 10)))
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

func revisionName(set string, hash string) string {
	if len(set) > 223 {
		set = set[:223]
	}
	return set + "-" + hash
}

// newRevision is the ControllerRevision of the set's current template:
// the template's labels plus the hash label, the set's annotations, a
// controller reference to the set and the given revision number.
func newRevision(set *appsv1.StatefulSet, number int64, collisionCount int32) (*appsv1.ControllerRevision, error) {
	data, err := revisionData(set)
	if err != nil {
		return nil, err
	}
	cr := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       set.Namespace,
			Labels:          map[string]string{},
			Annotations:     map[string]string{},
			OwnerReferences: []metav1.OwnerReference{ctrl.ControllerRef(set, setKind)},
		},
		Data:     runtime.RawExtension{Raw: data},
		Revision: number,
	}
	for k, v := range set.Spec.Template.Labels {
		cr.Labels[k] = v
	}
	for k, v := range set.Annotations {
		cr.Annotations[k] = v
	}
	nameRevision(cr, set.Name, collisionCount)
	return cr, nil
}

// nameRevision names the revision after its hash with collisionCount.
func nameRevision(cr *appsv1.ControllerRevision, set string, collisionCount int32) {
	hash := revisionHash(cr.Data.Raw, &collisionCount)
	cr.Name = revisionName(set, hash)
	cr.Labels[hashLabel] = hash
}

// sameRevision reports whether two revisions hold the same template.
func sameRevision(a, b *appsv1.ControllerRevision) bool {
	if a.Labels[hashLabel] != b.Labels[hashLabel] {
		return false
	}
	return sameData(a.Data.Raw, b.Data.Raw)
}

// sameData compares revision data byte-wise, then as JSON values (a
// server may re-encode what it stores).
func sameData(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// sortRevisions orders revisions oldest first: by number, then creation
// time, then name.
func sortRevisions(revs []*appsv1.ControllerRevision) {
	sort.SliceStable(revs, func(i, j int) bool {
		a, b := revs[i], revs[j]
		if a.Revision != b.Revision {
			return a.Revision < b.Revision
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
}

// nextNumber is the revision number after the newest of revs (sorted).
func nextNumber(revs []*appsv1.ControllerRevision) int64 {
	if len(revs) == 0 {
		return 1
	}
	return revs[len(revs)-1].Revision + 1
}

// revisionChoice is what to do to make the set's template the update
// revision.
type revisionChoice struct {
	// existing is the revision already holding the template; nil means
	// create want.
	existing *appsv1.ControllerRevision
	// renumber, with existing, means it is an older revision rolled back
	// to: its number must become want.Revision.
	renumber bool
	want     *appsv1.ControllerRevision
}

// chooseUpdateRevision finds the revision for the set's template among
// revs (sorted oldest first): the newest one when it matches; else an
// older match, which is renumbered to become the newest (a rollback);
// else a new revision is needed.
func chooseUpdateRevision(set *appsv1.StatefulSet, revs []*appsv1.ControllerRevision, collisionCount int32) (revisionChoice, error) {
	want, err := newRevision(set, nextNumber(revs), collisionCount)
	if err != nil {
		return revisionChoice{}, err
	}
	var match *appsv1.ControllerRevision
	for _, r := range revs {
		if sameRevision(r, want) {
			match = r
		}
	}
	switch {
	case match == nil:
		return revisionChoice{want: want}, nil
	case match == revs[len(revs)-1]:
		return revisionChoice{existing: match, want: want}, nil
	default:
		return revisionChoice{existing: match, renumber: true, want: want}, nil
	}
}

// currentRevisionOf is the revision named by status.currentRevision, or
// update when there is none (a new set, or history lost).
func currentRevisionOf(set *appsv1.StatefulSet, revs []*appsv1.ControllerRevision, update *appsv1.ControllerRevision) *appsv1.ControllerRevision {
	for _, r := range revs {
		if r.Name == set.Status.CurrentRevision {
			return r
		}
	}
	return update
}

// applyRevision is the set with its template replaced by the one stored
// in the revision.
func applyRevision(set *appsv1.StatefulSet, rev *appsv1.ControllerRevision) (*appsv1.StatefulSet, error) {
	var patch struct {
		Spec struct {
			Template corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(rev.Data.Raw, &patch); err != nil {
		return nil, fmt.Errorf("statefulset: revision %s: %w", rev.Name, err)
	}
	out := set.DeepCopy()
	out.Spec.Template = patch.Spec.Template
	return out, nil
}

// revisionsToPrune are the oldest revisions beyond the history limit that
// neither the status nor any pod refers to. revs is sorted oldest first.
func revisionsToPrune(revs []*appsv1.ControllerRevision, pods []*corev1.Pod, current, update string, limit int32) []*appsv1.ControllerRevision {
	live := map[string]bool{current: true, update: true}
	for _, p := range pods {
		live[revisionOf(p)] = true
	}
	var dead []*appsv1.ControllerRevision
	for _, r := range revs {
		if !live[r.Name] {
			dead = append(dead, r)
		}
	}
	if len(dead) <= int(limit) {
		return nil
	}
	return dead[:len(dead)-int(limit)]
}
