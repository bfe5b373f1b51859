package apiserver

import (
	"context"
	"errors"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/internal/store"
)

func (h *resource) create(w http.ResponseWriter, r *http.Request, ri requestInfo) error {
	if ri.Name != "" {
		return apierrors.NewMethodNotSupported(h.gr, "create")
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	if h.res.Kind.Kind == "SelfSubjectAccessReview" {
		return h.selfSubjectAccessReview(w, r, body)
	}
	obj := h.newObject()
	warnings, err := decodeBody(r, body, h.res.Kind, obj)
	if err != nil {
		return err
	}
	out, err := h.createObject(r.Context(), r, ri.Namespace, obj, true)
	if err != nil {
		return err
	}
	return h.respond(w, r, http.StatusCreated, out, warnings)
}

// createObject fills the server-owned metadata, defaults, validates, admits
// and stores a new object. managed is false when the caller already set
// managedFields (server-side apply).
func (h *resource) createObject(ctx context.Context, r *http.Request, namespace string, obj runtime.Object, managed bool) (runtime.Object, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	if h.res.Namespaced {
		if m.GetNamespace() == "" {
			m.SetNamespace(namespace)
		} else if m.GetNamespace() != namespace {
			return nil, badRequest("the namespace of the provided object does not match the namespace sent on the request")
		}
	} else {
		m.SetNamespace("")
	}
	if m.GetName() == "" && m.GetGenerateName() == "" {
		return nil, h.invalid("", field.ErrorList{field.Required(field.NewPath("metadata", "name"), "name or generateName is required")})
	}
	generated := m.GetName() == ""
	if generated {
		m.SetName(generateName(m.GetGenerateName()))
	}
	m.SetUID(uuid.NewUUID())
	m.SetCreationTimestamp(metav1.Now().Rfc3339Copy())
	m.SetResourceVersion("")
	m.SetDeletionTimestamp(nil)
	m.SetDeletionGracePeriodSeconds(nil)
	m.SetSelfLink("")
	m.SetGeneration(0)
	if h.res.Strategy.Generation {
		m.SetGeneration(1)
	}
	st := h.res.Strategy
	if st.Default != nil {
		st.Default(obj)
	}
	// Field ownership is recorded on what the client sent (with defaults),
	// before the server fills in fields of its own, which nobody owns.
	if fm, err := h.fields.get(""); err == nil && managed {
		obj = fm.UpdateNoErrors(h.newObject(), obj, managerName(r))
		m, _ = meta.Accessor(obj)
	}
	if st.PrepareForCreate != nil {
		st.PrepareForCreate(obj)
	}
	if err := h.validateCreate(obj); err != nil {
		return nil, err
	}
	if err := h.srv.admitCreate(ctx, h, obj); err != nil {
		return nil, err
	}
	if isDryRun(r) {
		return obj, nil
	}
	for attempt := 0; ; attempt++ {
		b, err := h.encodeStored(obj)
		if err != nil {
			return nil, err
		}
		rev, err := h.srv.opts.Store.Create(ctx, h.key(m.GetNamespace(), m.GetName()), b)
		if errors.Is(err, store.ErrExists) && generated && attempt < 8 {
			m.SetName(generateName(m.GetGenerateName()))
			continue
		}
		if err != nil {
			return nil, storeError(err, h.gr, m.GetName())
		}
		setRev(m, rev)
		return obj, nil
	}
}

// generateName appends upstream's five random characters to a prefix.
func generateName(prefix string) string {
	const maxNameLength, randomLength = 63, 5
	if len(prefix) > maxNameLength-randomLength {
		prefix = prefix[:maxNameLength-randomLength]
	}
	return prefix + utilrand.String(randomLength)
}

func isDryRun(r *http.Request) bool {
	for _, v := range r.URL.Query()["dryRun"] {
		if v == "All" {
			return true
		}
	}
	return false
}

func setRev(m metav1.Object, rev int64) {
	m.SetResourceVersion(formatRev(rev))
}
