package apiserver

import (
	"encoding/json"
	"net/http"
	"reflect"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func (h *resource) serveStatus(w http.ResponseWriter, r *http.Request, ri requestInfo) error {
	switch ri.Verb {
	case "get":
		return h.get(w, r, ri)
	case "update":
		return h.update(w, r, ri, "status")
	case "patch":
		return h.patch(w, r, ri, "status")
	}
	return apierrors.NewMethodNotSupported(schema.GroupResource{Group: h.gr.Group, Resource: h.gr.Resource + "/status"}, ri.Verb)
}

var scaleGVK = autoscalingv1.SchemeGroupVersion.WithKind("Scale")

// scaleOf reads the Scale view of a workload: spec.replicas, status.replicas
// and the selector.
func scaleOf(obj runtime.Object) (*autoscalingv1.Scale, error) {
	m, _ := meta.Accessor(obj)
	s := &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: m.GetName(), Namespace: m.GetNamespace(),
		UID: m.GetUID(), ResourceVersion: m.GetResourceVersion(), CreationTimestamp: m.GetCreationTimestamp()}}
	s.SetGroupVersionKind(scaleGVK)
	spec, ok := part(obj, "Spec")
	status, _ := part(obj, "Status")
	if !ok {
		return nil, apierrors.NewBadRequest("the object has no spec")
	}
	if rep := spec.FieldByName("Replicas"); rep.IsValid() && !rep.IsNil() {
		s.Spec.Replicas = int32(rep.Elem().Int())
	}
	if rep := status.FieldByName("Replicas"); rep.IsValid() {
		s.Status.Replicas = int32(rep.Int())
	}
	if sel := spec.FieldByName("Selector"); sel.IsValid() && !sel.IsNil() {
		ls, err := metav1.LabelSelectorAsSelector(sel.Interface().(*metav1.LabelSelector))
		if err == nil {
			s.Status.Selector = ls.String()
		}
	}
	return s, nil
}

func setReplicas(obj runtime.Object, n int32) {
	spec, _ := part(obj, "Spec")
	if rep := spec.FieldByName("Replicas"); rep.IsValid() {
		rep.Set(reflect.ValueOf(&n))
	}
}

func (h *resource) serveScale(w http.ResponseWriter, r *http.Request, ri requestInfo) error {
	writeScale := func(code int, obj runtime.Object) error {
		s, err := scaleOf(obj)
		if err != nil {
			return err
		}
		enc, err := negotiate(r)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", enc.mediaType)
		w.WriteHeader(code)
		return enc.encode(s, w)
	}
	switch ri.Verb {
	case "get":
		obj, _, err := h.load(r.Context(), ri.Namespace, ri.Name)
		if err != nil {
			return err
		}
		return writeScale(http.StatusOK, obj)
	case "update", "patch":
	default:
		return apierrors.NewMethodNotSupported(h.gr, ri.Verb)
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	out, _, err := h.updateObject(r.Context(), r, ri, func(current runtime.Object) (runtime.Object, error) {
		cur, err := scaleOf(current)
		if err != nil {
			return nil, err
		}
		want := &autoscalingv1.Scale{}
		if ri.Verb == "update" {
			if _, err := decodeBody(r, body, scaleGVK, want); err != nil {
				return nil, err
			}
		} else {
			patched, _, err := applyPatch(r, mediaTypeOnly(r.Header.Get("Content-Type")), body, cur, scaleGVK)
			if err != nil {
				return nil, err
			}
			want = patched.(*autoscalingv1.Scale)
		}
		if want.Spec.Replicas < 0 {
			return nil, apierrors.NewInvalid(schema.GroupKind{Group: "autoscaling", Kind: "Scale"}, ri.Name, nil)
		}
		m, _ := meta.Accessor(current)
		if want.ResourceVersion != "" && want.ResourceVersion != m.GetResourceVersion() {
			return nil, conflict(h.gr, ri.Name)
		}
		m.SetResourceVersion("")
		setReplicas(current, want.Spec.Replicas)
		return current, nil
	}, updateOptions{manager: managerName(r), managed: true, dryRun: isDryRun(r)})
	if err != nil {
		return err
	}
	return writeScale(http.StatusOK, out)
}

func (h *resource) serveBinding(w http.ResponseWriter, r *http.Request, ri requestInfo) error {
	if ri.Verb != "create" {
		return apierrors.NewMethodNotSupported(h.gr, ri.Verb)
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	b := &corev1.Binding{}
	if _, err := decodeBody(r, body, corev1.SchemeGroupVersion.WithKind("Binding"), b); err != nil {
		return err
	}
	if errs := validateBinding(b); len(errs) > 0 {
		return apierrors.NewInvalid(schema.GroupKind{Kind: "Binding"}, ri.Name, errs)
	}
	bindingGR := schema.GroupResource{Resource: "pods/binding"}
	_, _, err = h.updateObject(r.Context(), r, ri, func(current runtime.Object) (runtime.Object, error) {
		pod := current.(*corev1.Pod)
		if b.UID != "" && b.UID != pod.UID {
			// The pod was deleted and made again under the same name.
			return nil, apierrors.NewConflict(bindingGR, ri.Name,
				errorf("Precondition failed: UID in precondition: %s, UID in object meta: %s", b.UID, pod.UID))
		}
		if pod.Spec.NodeName != "" {
			return nil, apierrors.NewConflict(bindingGR, ri.Name, errorf("pod %s is already assigned to node %q", pod.Name, pod.Spec.NodeName))
		}
		if pod.DeletionTimestamp != nil {
			return nil, apierrors.NewConflict(bindingGR, ri.Name, errorf("pod %s is being deleted, cannot be assigned to a host", pod.Name))
		}
		pod.ResourceVersion = ""
		pod.Spec.NodeName = b.Target.Name
		setPodScheduled(pod)
		for k, v := range b.Annotations {
			if pod.Annotations == nil {
				pod.Annotations = map[string]string{}
			}
			pod.Annotations[k] = v
		}
		return pod, nil
		// As upstream, a binding is written as is: it records no
		// managedFields entry (and skips their cost on every scheduled pod).
	}, updateOptions{manager: managerName(r), managed: false, dryRun: isDryRun(r), sub: "binding"})
	if err != nil {
		return err
	}
	st := &metav1.Status{Status: metav1.StatusSuccess, Code: http.StatusCreated}
	st.Kind, st.APIVersion = "Status", "v1"
	w.Header().Set("Content-Type", mediaJSON)
	w.WriteHeader(http.StatusCreated)
	return json.NewEncoder(w).Encode(st)
}

// validateBinding checks a Binding as upstream does: it names a node.
func validateBinding(b *corev1.Binding) field.ErrorList {
	var errs field.ErrorList
	target := field.NewPath("target")
	if b.Target.Kind != "" && b.Target.Kind != "Node" {
		errs = append(errs, field.NotSupported(target.Child("kind"), b.Target.Kind, []string{"Node", "<empty>"}))
	}
	if b.Target.Name == "" {
		errs = append(errs, field.Required(target.Child("name"), ""))
	}
	return errs
}

func (h *resource) serveFinalize(w http.ResponseWriter, r *http.Request, ri requestInfo) error {
	if ri.Verb != "update" {
		return apierrors.NewMethodNotSupported(h.gr, ri.Verb)
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	want := &corev1.Namespace{}
	if _, err := decodeBody(r, body, h.res.Kind, want); err != nil {
		return err
	}
	out, _, err := h.updateObject(r.Context(), r, ri, func(current runtime.Object) (runtime.Object, error) {
		ns := current.(*corev1.Namespace)
		if want.ResourceVersion != "" && want.ResourceVersion != ns.ResourceVersion {
			return nil, conflict(h.gr, ri.Name)
		}
		ns.ResourceVersion = ""
		ns.Spec.Finalizers = want.Spec.Finalizers
		return ns, nil
	}, updateOptions{manager: managerName(r), managed: true, sub: "finalize"})
	if err != nil {
		return err
	}
	return h.respond(w, r, http.StatusOK, out, nil)
}

func setPodScheduled(pod *corev1.Pod) {
	now := metav1.Now().Rfc3339Copy()
	for i, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			if c.Status != corev1.ConditionTrue {
				pod.Status.Conditions[i] = corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now}
			}
			return
		}
	}
	pod.Status.Conditions = append(pod.Status.Conditions, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now})
}
