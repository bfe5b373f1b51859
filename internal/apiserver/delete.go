package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"skiff.dev/internal/store"
)

// deleteOptions reads DeleteOptions from the body or the query.
func deleteOptions(w http.ResponseWriter, r *http.Request) (*metav1.DeleteOptions, error) {
	opts := &metav1.DeleteOptions{}
	body, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	if len(body) > 0 {
		gvk := schema.GroupVersionKind{Version: "v1", Kind: "DeleteOptions"}
		info, ok := serializerFor(mediaTypeOnly(r.Header.Get("Content-Type")))
		if !ok {
			info, _ = serializerFor(mediaJSON)
		}
		if _, _, err := info.Serializer.Decode(body, &gvk, opts); err != nil {
			return nil, badRequest("decoding DeleteOptions: %v", decodeMessage(err))
		}
	}
	q := r.URL.Query()
	if s := q.Get("gracePeriodSeconds"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, badRequest("invalid gracePeriodSeconds %q", s)
		}
		opts.GracePeriodSeconds = &n
	}
	if s := q.Get("propagationPolicy"); s != "" {
		p := metav1.DeletionPropagation(s)
		opts.PropagationPolicy = &p
	}
	if s := q.Get("orphanDependents"); s != "" {
		b := s == "true"
		opts.OrphanDependents = &b
	}
	opts.DryRun = append(opts.DryRun, q["dryRun"]...)
	if p := opts.PropagationPolicy; p != nil {
		switch *p {
		case metav1.DeletePropagationBackground, metav1.DeletePropagationForeground, metav1.DeletePropagationOrphan:
		default:
			return nil, badRequest("propagationPolicy %q is not one of Orphan, Foreground, Background", *p)
		}
	}
	return opts, nil
}

func (h *resource) delete(w http.ResponseWriter, r *http.Request, ri requestInfo) error {
	opts, err := deleteOptions(w, r)
	if err != nil {
		return err
	}
	if err := h.srv.admitDelete(h, ri.Name); err != nil {
		return err
	}
	out, deleted, err := h.deleteObject(r.Context(), ri.Namespace, ri.Name, opts)
	if err != nil {
		return err
	}
	// Upstream answers 200 also when the object stays (finalizers, grace
	// period); only a deletion that asked for orphanDependents=false and
	// is not done yet gets 202.
	code := http.StatusOK
	if !deleted && opts.OrphanDependents != nil && !*opts.OrphanDependents {
		code = http.StatusAccepted
	}
	return h.respond(w, r, code, out, nil)
}

// deleteObject deletes one object, or marks it for deletion when it has a
// grace period or finalizers. deleted tells which happened.
func (h *resource) deleteObject(ctx context.Context, namespace, name string, opts *metav1.DeleteOptions) (runtime.Object, bool, error) {
	dryRun := slices.Contains(opts.DryRun, "All")
	for attempt := 0; ; attempt++ {
		obj, cur, err := h.load(ctx, namespace, name)
		if err != nil {
			return nil, false, err
		}
		m, _ := meta.Accessor(obj)
		if p := opts.Preconditions; p != nil {
			if p.UID != nil && *p.UID != m.GetUID() {
				return nil, false, apierrors.NewConflict(h.gr, name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *p.UID, m.GetUID()))
			}
			if p.ResourceVersion != nil && *p.ResourceVersion != m.GetResourceVersion() {
				return nil, false, apierrors.NewConflict(h.gr, name, fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *p.ResourceVersion, m.GetResourceVersion()))
			}
		}
		old := obj.DeepCopyObject()
		immediate := h.markDeleting(obj, opts)
		if dryRun {
			return obj, immediate, nil
		}
		key := h.key(namespace, name)
		if immediate {
			drev, err := h.srv.opts.Store.Delete(ctx, key, cur.Rev)
			if errors.Is(err, store.ErrConflict) && attempt < maxUpdateRetries {
				continue
			}
			if err != nil {
				return nil, false, storeError(err, h.gr, name)
			}
			setRev(m, drev)
			return obj, true, nil
		}
		out, err := h.write(ctx, obj, old, cur, false)
		if errors.Is(err, store.ErrConflict) && attempt < maxUpdateRetries {
			continue
		}
		if err != nil {
			return nil, false, storeError(err, h.gr, name)
		}
		return out, false, nil
	}
}

// markDeleting sets deletionTimestamp and the finalizers a deletion needs,
// and reports whether the object can go at once.
func (h *resource) markDeleting(obj runtime.Object, opts *metav1.DeleteOptions) bool {
	m, _ := meta.Accessor(obj)
	finalizers := m.GetFinalizers()
	policy := metav1.DeletePropagationBackground
	if opts.PropagationPolicy != nil {
		policy = *opts.PropagationPolicy
	} else if opts.OrphanDependents != nil && *opts.OrphanDependents {
		policy = metav1.DeletePropagationOrphan
	}
	switch policy {
	case metav1.DeletePropagationOrphan:
		finalizers = addOnce(finalizers, metav1.FinalizerOrphanDependents)
	case metav1.DeletePropagationForeground:
		finalizers = addOnce(finalizers, metav1.FinalizerDeleteDependents)
	}
	var grace int64
	if h.res.Strategy.GracePeriod != nil {
		grace = h.res.Strategy.GracePeriod(obj, opts)
	}
	if m.GetDeletionTimestamp() != nil {
		// Already being deleted: only a shorter grace period changes anything.
		if cur := m.GetDeletionGracePeriodSeconds(); cur != nil && grace < *cur && h.res.Strategy.GracePeriod != nil {
			if grace == 0 && len(m.GetFinalizers()) == 0 {
				return true
			}
			setDeletion(m, grace)
		}
		return false
	}
	if grace == 0 && len(finalizers) == 0 && h.finalized(obj) {
		return true
	}
	m.SetFinalizers(finalizers)
	setDeletion(m, grace)
	h.onDeleting(obj)
	return false
}

func setDeletion(m metav1.Object, grace int64) {
	ts := metav1.NewTime(time.Now().Add(time.Duration(grace) * time.Second).Truncate(time.Second))
	m.SetDeletionTimestamp(&ts)
	m.SetDeletionGracePeriodSeconds(&grace)
}

func addOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(slices.Clone(list), s)
}

func (h *resource) deleteCollection(w http.ResponseWriter, r *http.Request, ri requestInfo) error {
	opts, err := deleteOptions(w, r)
	if err != nil {
		return err
	}
	sel, err := h.selection(r.URL.Query(), ri.Namespace)
	if err != nil {
		return err
	}
	items, rev, err := h.cache.List(r.Context(), true, h.filter(sel))
	if err != nil {
		return err
	}
	var out []runtime.Object
	for _, item := range items {
		m, _ := meta.Accessor(item)
		obj, _, err := h.deleteObject(r.Context(), m.GetNamespace(), m.GetName(), opts)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		out = append(out, obj)
	}
	stored := make([]runtime.Object, 0, len(out))
	for _, o := range out {
		s, err := h.toStorage(o)
		if err != nil {
			return err
		}
		stored = append(stored, s)
	}
	list, err := h.newList(stored, rev, "", nil)
	if err != nil {
		return err
	}
	return h.respond(w, r, http.StatusOK, list, nil)
}
