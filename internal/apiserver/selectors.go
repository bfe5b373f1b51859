package apiserver

import (
	"net/url"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/internal/watchcache"
)

// selection is what a list or watch asks for: a namespace, a label
// selector and a field selector.
type selection struct {
	namespace string
	labels    labels.Selector
	fields    fields.Selector
}

func (h *resource) selection(q url.Values, namespace string) (selection, error) {
	sel := selection{namespace: namespace, labels: labels.Everything(), fields: fields.Everything()}
	if s := q.Get("labelSelector"); s != "" {
		ls, err := labels.Parse(s)
		if err != nil {
			return sel, badRequest("unable to parse requirement: %v", err)
		}
		sel.labels = ls
	}
	if s := q.Get("fieldSelector"); s != "" {
		fs, err := fields.ParseSelector(s)
		if err != nil {
			return sel, badRequest("invalid field selector: %v", err)
		}
		known := h.fieldSet(h.newObject())
		for _, req := range fs.Requirements() {
			if _, ok := known[req.Field]; ok {
				continue
			}
			// Upstream's words differ: kinds with their own selectable
			// fields refuse others in their conversion function, the rest
			// with the default one.
			if h.res.Strategy.Fields == nil {
				return sel, badRequest("%q is not a known field selector: only %q, %q", req.Field, "metadata.name", "metadata.namespace")
			}
			return sel, badRequest("field label not supported: %s", req.Field)
		}
		sel.fields = fs
	}
	return sel, nil
}

// fieldSet is the set of selectable fields of a served-kind object.
func (h *resource) fieldSet(obj runtime.Object) fields.Set {
	m, err := meta.Accessor(obj)
	if err != nil {
		return fields.Set{}
	}
	set := fields.Set{"metadata.name": m.GetName()}
	// metadata.namespace is selectable on namespaced kinds and, through
	// upstream's default conversion, on cluster-scoped kinds that have no
	// selectable fields of their own.
	if h.res.Namespaced || h.res.Strategy.Fields == nil {
		set["metadata.namespace"] = m.GetNamespace()
	}
	if h.res.Strategy.Fields != nil {
		for k, v := range h.res.Strategy.Fields(obj) {
			set[k] = v
		}
	}
	return set
}

// filter returns the watch cache filter for a selection, or nil when it
// selects everything in the cache.
func (h *resource) filter(sel selection) watchcache.Filter {
	nsPrefix := ""
	if h.res.Namespaced && sel.namespace != "" {
		nsPrefix = sel.namespace
	}
	if nsPrefix == "" && sel.labels.Empty() && sel.fields.Empty() {
		return nil
	}
	return func(obj runtime.Object) bool {
		m, err := meta.Accessor(obj)
		if err != nil {
			return false
		}
		if nsPrefix != "" && m.GetNamespace() != nsPrefix {
			return false
		}
		if !sel.labels.Empty() && !sel.labels.Matches(labels.Set(m.GetLabels())) {
			return false
		}
		if sel.fields.Empty() {
			return true
		}
		served, err := h.served(obj)
		if err != nil {
			return false
		}
		return sel.fields.Matches(h.fieldSet(served))
	}
}
