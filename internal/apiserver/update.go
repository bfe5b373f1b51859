package apiserver

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/internal/store"
)

// mutation turns the current object (a copy the caller may change) into
// the desired one. It gets nil when the object does not exist and the
// update may create it.
type mutation func(current runtime.Object) (runtime.Object, error)

// updateOptions shape one update.
type updateOptions struct {
	sub     string // "" or "status"
	manager string
	// managed is false when the mutation already maintained managedFields
	// (server-side apply).
	managed bool
	// createMissing lets the update create the object (apply, PUT of kinds
	// that allow it).
	createMissing bool
	dryRun        bool
}

func (h *resource) update(w http.ResponseWriter, r *http.Request, ri requestInfo, sub string) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	obj := h.newObject()
	warnings, err := decodeBody(r, body, h.res.Kind, obj)
	if err != nil {
		return err
	}
	m, _ := meta.Accessor(obj)
	if m.GetName() != ri.Name {
		return badRequest("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), ri.Name)
	}
	if h.res.Namespaced && m.GetNamespace() != "" && m.GetNamespace() != ri.Namespace {
		return badRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	out, created, err := h.updateObject(r.Context(), r, ri, func(runtime.Object) (runtime.Object, error) {
		return obj.DeepCopyObject(), nil
	}, updateOptions{sub: sub, manager: managerName(r), managed: true, dryRun: isDryRun(r)})
	if err != nil {
		return err
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	return h.respond(w, r, code, out, warnings)
}

// maxUpdateRetries bounds the retries of an unconditional update that keeps
// losing races.
const maxUpdateRetries = 16

// updateObject reads the object, applies mutate, and writes the result with
// compare-and-swap, retrying on a conflict unless the client named the
// resourceVersion it expects.
func (h *resource) updateObject(ctx context.Context, r *http.Request, ri requestInfo, mutate mutation, o updateOptions) (runtime.Object, bool, error) {
	for attempt := 0; ; attempt++ {
		current, cur, err := h.load(ctx, ri.Namespace, ri.Name)
		if apierrors.IsNotFound(err) && o.createMissing {
			obj, err := mutate(nil)
			if err != nil {
				return nil, false, err
			}
			created, err := h.createObject(ctx, r, ri.Namespace, obj, o.managed)
			return created, err == nil, err
		}
		if err != nil {
			return nil, false, err
		}
		old := current.DeepCopyObject()
		obj, err := mutate(current)
		if err != nil {
			return nil, false, err
		}
		m, err := meta.Accessor(obj)
		if err != nil {
			return nil, false, err
		}
		precondition := m.GetResourceVersion() != ""
		if precondition && m.GetResourceVersion() != strconv.FormatInt(cur.Rev, 10) {
			return nil, false, conflict(h.gr, ri.Name)
		}
		setRev(m, cur.Rev)
		if err := h.prepareUpdate(obj, old, o); err != nil {
			return nil, false, err
		}
		if err := h.srv.admitUpdate(ctx, h, obj, old); err != nil {
			return nil, false, err
		}
		out, err := h.write(ctx, obj, old, cur, o.dryRun)
		if errors.Is(err, store.ErrConflict) && !precondition && attempt < maxUpdateRetries {
			continue
		}
		if err != nil {
			return nil, false, storeError(err, h.gr, ri.Name)
		}
		return out, false, nil
	}
}

// prepareUpdate carries over what a client may not change, applies the
// spec/status split and the strategy, and validates.
func (h *resource) prepareUpdate(obj, old runtime.Object, o updateOptions) error {
	m, _ := meta.Accessor(obj)
	om, _ := meta.Accessor(old)
	// As upstream: a missing uid is the stored one; another uid is an
	// attempt to change an immutable field (controllers put the uid in
	// their patches so that they never modify a replaced object).
	if m.GetUID() != "" && m.GetUID() != om.GetUID() {
		return apierrors.NewInvalid(h.res.Kind.GroupKind(), om.GetName(), field.ErrorList{
			field.Invalid(field.NewPath("metadata", "uid"), m.GetUID(), "field is immutable")})
	}
	m.SetUID(om.GetUID())
	m.SetCreationTimestamp(om.GetCreationTimestamp())
	m.SetDeletionTimestamp(om.GetDeletionTimestamp())
	m.SetDeletionGracePeriodSeconds(om.GetDeletionGracePeriodSeconds())
	m.SetGeneration(om.GetGeneration())
	m.SetSelfLink("")
	if h.res.Namespaced && m.GetNamespace() == "" {
		m.SetNamespace(om.GetNamespace())
	}
	st := h.res.Strategy
	if st.Default != nil {
		st.Default(obj)
	}
	// Field ownership is recorded on what the client sent, before the
	// server's own changes (as upstream does).
	if o.managed {
		if fm, err := h.fields.get(o.sub); err == nil {
			updated := fm.UpdateNoErrors(old, obj, o.manager)
			if updated != obj {
				nm, _ := meta.Accessor(updated)
				m.SetManagedFields(nm.GetManagedFields())
			}
		}
	}
	if st.HasStatus {
		switch o.sub {
		case "status":
			copyPart(obj, old, "Spec")
		case "":
			copyPart(obj, old, "Status")
		}
	}
	if o.sub == "" && st.PrepareForUpdate != nil {
		st.PrepareForUpdate(obj, old)
	}
	if st.Generation && o.sub == "" && specChanged(obj, old) {
		m.SetGeneration(om.GetGeneration() + 1)
	}
	if err := h.validateUpdate(obj, old, o.sub); err != nil {
		return err
	}
	return nil
}

// write stores obj over the stored value cur (old decoded). An update that
// changes nothing writes nothing and keeps the resourceVersion, as upstream. An object
// already being deleted with no grace period left whose last finalizer is
// gone is deleted; one still in its grace period (a pod) stays.
func (h *resource) write(ctx context.Context, obj, old runtime.Object, cur store.KV, dryRun bool) (runtime.Object, error) {
	m, _ := meta.Accessor(obj)
	b, err := h.encodeStored(obj)
	if err != nil {
		return nil, err
	}
	rev := cur.Rev
	if bytes.Equal(b, cur.Value) {
		setRev(m, rev)
		return obj, nil
	}
	if dryRun {
		setRev(m, rev)
		return obj, nil
	}
	key := h.key(m.GetNamespace(), m.GetName())
	if deleteDuringUpdate(m, old) && h.finalized(obj) {
		drev, err := h.srv.opts.Store.Delete(ctx, key, rev)
		if err != nil {
			return nil, err
		}
		setRev(m, drev)
		return obj, nil
	}
	nrev, err := h.srv.opts.Store.Update(ctx, key, b, rev)
	if err != nil {
		return nil, err
	}
	setRev(m, nrev)
	return obj, nil
}

func formatRev(rev int64) string { return strconv.FormatInt(rev, 10) }

// deleteDuringUpdate reports whether an update completes a deletion: the
// stored object was marked with no grace period (or none at all) and the
// new one has no finalizers left.
func deleteDuringUpdate(m metav1.Object, old runtime.Object) bool {
	om, err := meta.Accessor(old)
	if err != nil || len(m.GetFinalizers()) > 0 || om.GetDeletionTimestamp() == nil {
		return false
	}
	grace := om.GetDeletionGracePeriodSeconds()
	return grace == nil || *grace == 0
}
