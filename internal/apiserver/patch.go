package apiserver

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"
)

// The patch media types.
const (
	patchJSON      = string(types.JSONPatchType)
	patchMerge     = string(types.MergePatchType)
	patchStrategic = string(types.StrategicMergePatchType)
	patchApply     = string(types.ApplyYAMLPatchType)
)

func (h *resource) patch(w http.ResponseWriter, r *http.Request, ri requestInfo, sub string) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	o := updateOptions{sub: sub, manager: managerName(r), managed: true, dryRun: isDryRun(r)}
	var warnings []string
	var mutate mutation
	switch ct {
	case patchJSON, patchMerge, patchStrategic:
		mutate = func(current runtime.Object) (runtime.Object, error) {
			obj, warns, err := applyPatch(r, ct, body, current, h.res.Kind)
			warnings = warns
			return obj, err
		}
	case patchApply:
		mutate, err = h.applyMutation(r, ri, body, sub)
		if err != nil {
			return err
		}
		o.managed = false
		o.createMissing = sub == ""
		if r.URL.Query().Get("fieldManager") == "" {
			return h.invalid(ri.Name, field.ErrorList{field.Required(field.NewPath("fieldManager"), "is required for apply patch")})
		}
	default:
		return unsupportedMedia(r.Header.Get("Content-Type"))
	}
	out, created, err := h.updateObject(r.Context(), r, ri, mutate, o)
	if err != nil {
		return err
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	return h.respond(w, r, code, out, warnings)
}

// applyPatch applies a JSON, merge or strategic-merge patch to current, an
// object of kind gvk.
func applyPatch(r *http.Request, ct string, body []byte, current runtime.Object, gvk schema.GroupVersionKind) (runtime.Object, []string, error) {
	newObject := func() runtime.Object { obj, _ := scheme.New(gvk); return obj }
	cur, err := json.Marshal(current)
	if err != nil {
		return nil, nil, err
	}
	var patched []byte
	switch ct {
	case patchJSON:
		p, err := jsonpatch.DecodePatch(body)
		if err != nil {
			return nil, nil, badRequest("the server rejected our request due to an error in our request: %v", err)
		}
		if patched, err = safeApply(p, cur); err != nil {
			return nil, nil, patchFailed(err)
		}
	case patchMerge:
		if !json.Valid(body) {
			return nil, nil, badRequest("error decoding patch: the body is not valid JSON")
		}
		if patched, err = jsonpatch.MergePatch(cur, body); err != nil {
			return nil, nil, patchFailed(err)
		}
	case patchStrategic:
		var probe map[string]interface{}
		if err := json.Unmarshal(body, &probe); err != nil {
			return nil, nil, badRequest("error decoding patch: %v", err)
		}
		if patched, err = strategicpatch.StrategicMergePatch(cur, body, newObject()); err != nil {
			return nil, nil, patchFailed(err)
		}
	}
	obj := newObject()
	info, _ := serializerFor(mediaJSON)
	warnings, err := decode(info, r.URL.Query().Get("fieldValidation"), patched, gvk, obj)
	if err != nil {
		return nil, nil, err
	}
	return obj, warnings, nil
}

func patchFailed(err error) error {
	return apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "patch", schema.GroupResource{}, "",
		fmt.Sprintf("the server rejected our request due to an error in our request: %v", err), 0, false)
}

// applyMutation is server-side apply: the applied configuration is merged
// into the live object by field ownership.
func (h *resource) applyMutation(r *http.Request, ri requestInfo, body []byte, sub string) (mutation, error) {
	js, err := yaml.YAMLToJSON(body)
	if err != nil {
		return nil, badRequest("error decoding YAML: %v", err)
	}
	applied := &unstructured.Unstructured{}
	if err := applied.UnmarshalJSON(js); err != nil {
		return nil, badRequest("error decoding apply configuration: %v", err)
	}
	if gvk := applied.GroupVersionKind(); gvk != h.res.Kind {
		return nil, badRequest("the apply configuration is for %s, not %s", gvk, h.res.Kind)
	}
	if applied.GetName() != ri.Name {
		return nil, badRequest("the name of the object (%s) does not match the name on the URL (%s)", applied.GetName(), ri.Name)
	}
	if h.res.Namespaced && applied.GetNamespace() != "" && applied.GetNamespace() != ri.Namespace {
		return nil, badRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	fm, err := h.fields.get(sub)
	if err != nil {
		return nil, err
	}
	force := r.URL.Query().Get("force") == "true"
	manager := r.URL.Query().Get("fieldManager")
	return func(current runtime.Object) (runtime.Object, error) {
		live := current
		if live == nil {
			live = h.newObject()
			live.GetObjectKind().SetGroupVersionKind(h.res.Kind)
		}
		out, err := fm.Apply(live, applied.DeepCopy(), manager, force)
		if err != nil {
			if apierrors.IsConflict(err) || apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) {
				return nil, err
			}
			return nil, badRequest("%v", err)
		}
		if u, ok := out.(*unstructured.Unstructured); ok {
			typed := h.newObject()
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, typed); err != nil {
				return nil, badRequest("%v", err)
			}
			out = typed
		}
		return out, nil
	}, nil
}

// safeApply applies a JSON patch, turning a panic inside the patch library
// (it has some on odd paths) into an error: a bad patch is the client's
// mistake, never a server crash.
func safeApply(p jsonpatch.Patch, doc []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("the patch could not be applied: %v", r)
		}
	}()
	return p.Apply(doc)
}
