package apiserver

import (
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// respond writes one object (or a list) in the negotiated form.
func (h *resource) respond(w http.ResponseWriter, r *http.Request, code int, obj runtime.Object, warnings []string) error {
	enc, err := negotiate(r)
	if err != nil {
		return err
	}
	out, err := h.transform(r, enc, obj)
	if err != nil {
		return err
	}
	for _, warn := range warnings {
		w.Header().Add("Warning", `299 - "`+strings.ReplaceAll(warn, `"`, `\"`)+`"`)
	}
	w.Header().Set("Content-Type", enc.mediaType)
	w.WriteHeader(code)
	if r.Method == http.MethodHead {
		return nil
	}
	return enc.encode(out, w)
}

// transform converts a response object into the form the client asked for
// (Table, PartialObjectMetadata, or the object itself).
func (h *resource) transform(r *http.Request, enc encoder, obj runtime.Object) (runtime.Object, error) {
	switch enc.as {
	case asTable:
		opts := r.URL.Query().Get("includeObject")
		if meta.IsListType(obj) {
			items, err := meta.ExtractList(obj)
			if err != nil {
				return nil, err
			}
			lm, _ := meta.ListAccessor(obj)
			return h.table(items, lm, opts, enc.asVersion)
		}
		return h.table([]runtime.Object{obj}, nil, opts, enc.asVersion)
	case asPartialMeta, asPartialList:
		if meta.IsListType(obj) {
			items, err := meta.ExtractList(obj)
			if err != nil {
				return nil, err
			}
			lm, _ := meta.ListAccessor(obj)
			list := &metav1.PartialObjectMetadataList{}
			list.SetResourceVersion(lm.GetResourceVersion())
			list.SetContinue(lm.GetContinue())
			list.SetRemainingItemCount(lm.GetRemainingItemCount())
			for _, item := range items {
				list.Items = append(list.Items, *partialMeta(item))
			}
			list.SetGroupVersionKind(metaGV.WithKind("PartialObjectMetadataList"))
			if enc.asVersion == "v1beta1" {
				list.APIVersion = "meta.k8s.io/v1beta1"
			}
			return list, nil
		}
		pm := partialMeta(obj)
		if enc.asVersion == "v1beta1" {
			pm.APIVersion = "meta.k8s.io/v1beta1"
		}
		return pm, nil
	}
	return obj, nil
}

func partialMeta(obj runtime.Object) *metav1.PartialObjectMetadata {
	m, _ := meta.Accessor(obj)
	pm := &metav1.PartialObjectMetadata{}
	if om, ok := m.(*metav1.ObjectMeta); ok {
		pm.ObjectMeta = *om
	} else {
		pm.ObjectMeta = metav1.ObjectMeta{Name: m.GetName(), Namespace: m.GetNamespace(), UID: m.GetUID(),
			ResourceVersion: m.GetResourceVersion(), Generation: m.GetGeneration(), CreationTimestamp: m.GetCreationTimestamp(),
			DeletionTimestamp: m.GetDeletionTimestamp(), Labels: m.GetLabels(), Annotations: m.GetAnnotations(),
			OwnerReferences: m.GetOwnerReferences(), Finalizers: m.GetFinalizers(), ManagedFields: m.GetManagedFields()}
	}
	pm.SetGroupVersionKind(metaGV.WithKind("PartialObjectMetadata"))
	return pm
}
