package apiserver

import (
	"bytes"
	"encoding/json"
	"reflect"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateCreate runs the generic metadata checks and the strategy's.
func (h *resource) validateCreate(obj runtime.Object) error {
	m, _ := meta.Accessor(obj)
	nameFn := apivalidation.NameIsDNSSubdomain
	if h.res.ValidName != nil {
		nameFn = apivalidation.ValidateNameFunc(h.res.ValidName)
	}
	errs := apivalidation.ValidateObjectMetaAccessor(m, h.res.Namespaced, nameFn, field.NewPath("metadata"))
	if h.res.Strategy.Validate != nil {
		errs = append(errs, h.res.Strategy.Validate(obj)...)
	}
	return h.invalid(m.GetName(), errs)
}

// validateUpdate checks an update of the main resource or a subresource.
func (h *resource) validateUpdate(obj, old runtime.Object, sub string) error {
	m, _ := meta.Accessor(obj)
	om, _ := meta.Accessor(old)
	errs := apivalidation.ValidateObjectMetaAccessorUpdate(m, om, field.NewPath("metadata"))
	if len(errs) == 0 {
		nameFn := apivalidation.NameIsDNSSubdomain
		if h.res.ValidName != nil {
			nameFn = apivalidation.ValidateNameFunc(h.res.ValidName)
		}
		errs = apivalidation.ValidateObjectMetaAccessor(m, h.res.Namespaced, nameFn, field.NewPath("metadata"))
	}
	st := h.res.Strategy
	switch sub {
	case "status":
		if st.ValidateStatusUpdate != nil {
			errs = append(errs, st.ValidateStatusUpdate(obj, old)...)
		}
	case "":
		if st.Validate != nil {
			errs = append(errs, st.Validate(obj)...)
		}
		if len(errs) == 0 && st.ValidateUpdate != nil {
			errs = append(errs, st.ValidateUpdate(obj, old)...)
		}
	}
	return h.invalid(m.GetName(), errs)
}

func (h *resource) invalid(name string, errs field.ErrorList) error {
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(h.res.Kind.GroupKind(), name, errs)
}

// part returns the Spec or Status field of an API object, if it has one.
func part(obj runtime.Object, name string) (reflect.Value, bool) {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	f := v.Elem().FieldByName(name)
	return f, f.IsValid()
}

// copyPart sets obj's Spec or Status to old's.
func copyPart(obj, old runtime.Object, name string) {
	dst, ok := part(obj, name)
	src, ok2 := part(old, name)
	if ok && ok2 && dst.CanSet() {
		dst.Set(src)
	}
}

// specChanged reports whether the spec differs, for generation bumps. Kinds
// without a spec compare everything but metadata and status.
func specChanged(obj, old runtime.Object) bool {
	a, ok := part(obj, "Spec")
	b, _ := part(old, "Spec")
	if !ok {
		return false
	}
	if equality.Semantic.DeepEqual(a.Interface(), b.Interface()) {
		return false
	}
	// Values that differ only in form (a nil pointer and an empty struct the
	// wire format omits alike) are no change: compare the encodings.
	ja, err1 := json.Marshal(a.Interface())
	jb, err2 := json.Marshal(b.Interface())
	return err1 != nil || err2 != nil || !bytes.Equal(ja, jb)
}
