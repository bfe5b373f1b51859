package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"skiff.dev/internal/registry"
	"skiff.dev/internal/store"
	"skiff.dev/internal/watchcache"
)

// resource serves one registry.Resource.
type resource struct {
	srv        *Server
	res        registry.Resource
	gr         schema.GroupResource
	storageGVK schema.GroupVersionKind
	prefix     string // "/registry/<prefix>/"
	cache      *watchcache.Cache
	json       runtime.Serializer
	fields     *fieldManagers
}

func newResource(s *Server, res registry.Resource) (*resource, error) {
	if !scheme.Recognizes(res.Kind) {
		return nil, fmt.Errorf("apiserver: %s is not a known kind", res.Kind)
	}
	h := &resource{srv: s, res: res, gr: schema.GroupResource{Group: res.Kind.Group, Resource: res.Name}, storageGVK: res.Kind}
	if res.StorageKind != nil {
		h.storageGVK = *res.StorageKind
		if res.ToStorage == nil || res.FromStorage == nil {
			return nil, fmt.Errorf("apiserver: %s has a StorageKind but no conversion", res.Name)
		}
	}
	prefix := res.StoragePrefix
	if prefix == "" {
		prefix = res.Name
	}
	h.prefix = "/registry/" + prefix + "/"
	info, _ := serializerFor(mediaJSON)
	h.json = info.Serializer
	if c, ok := s.caches[h.prefix]; ok {
		h.cache = c
	} else {
		h.cache = watchcache.New(s.opts.Store, h.prefix, h.decodeStored)
		s.caches[h.prefix] = h.cache
	}
	h.fields = &fieldManagers{res: res}
	return h, nil
}

func (h *resource) hasSub(name string) bool { return slices.Contains(h.res.Subresources, name) }

// key is the object's etcd key, upstream's layout.
func (h *resource) key(namespace, name string) string {
	if h.res.Namespaced {
		return h.prefix + namespace + "/" + name
	}
	return h.prefix + name
}

// keyPrefix is the etcd prefix of a list: one namespace or all.
func (h *resource) keyPrefix(namespace string) string {
	if h.res.Namespaced && namespace != "" {
		return h.prefix + namespace + "/"
	}
	return h.prefix
}

// newObject returns an empty object of the served kind.
func (h *resource) newObject() runtime.Object {
	obj, _ := scheme.New(h.res.Kind)
	return obj
}

// decodeStored turns a stored value into a storage-kind object with its
// resourceVersion set.
func (h *resource) decodeStored(kv store.KV) (runtime.Object, error) {
	into, err := scheme.New(h.storageGVK)
	if err != nil {
		return nil, err
	}
	obj, _, err := h.json.Decode(kv.Value, &h.storageGVK, into)
	if err != nil {
		return nil, fmt.Errorf("apiserver: decode %s: %w", kv.Key, err)
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	m.SetResourceVersion(strconv.FormatInt(kv.Rev, 10))
	obj.GetObjectKind().SetGroupVersionKind(h.storageGVK)
	return obj, nil
}

// encodeStored turns a served-kind object into its stored JSON (without a
// resourceVersion, which is the key's revision).
func (h *resource) encodeStored(obj runtime.Object) ([]byte, error) {
	stored, err := h.toStorage(obj)
	if err != nil {
		return nil, err
	}
	m, _ := meta.Accessor(stored)
	rv := m.GetResourceVersion()
	m.SetResourceVersion("")
	defer m.SetResourceVersion(rv)
	stored.GetObjectKind().SetGroupVersionKind(h.storageGVK)
	b, err := runtime.Encode(h.json, stored)
	if err != nil {
		return nil, fmt.Errorf("apiserver: encode: %w", err)
	}
	return b, nil
}

func (h *resource) toStorage(obj runtime.Object) (runtime.Object, error) {
	if h.res.ToStorage == nil {
		return obj, nil
	}
	return h.res.ToStorage(obj)
}

// served turns a stored (possibly shared, cached) object into the served
// kind. Without a conversion the object itself is returned: do not modify.
func (h *resource) served(obj runtime.Object) (runtime.Object, error) {
	if h.res.FromStorage == nil {
		return obj, nil
	}
	out, err := h.res.FromStorage(obj)
	if err != nil {
		return nil, err
	}
	out.GetObjectKind().SetGroupVersionKind(h.res.Kind)
	return out, nil
}

// load reads one object from the store, in the served kind, ready to
// modify, with the stored value it came from.
func (h *resource) load(ctx context.Context, namespace, name string) (runtime.Object, store.KV, error) {
	kv, err := h.srv.opts.Store.Get(ctx, h.key(namespace, name))
	if err != nil {
		return nil, store.KV{}, storeError(err, h.gr, name)
	}
	stored, err := h.decodeStored(kv)
	if err != nil {
		return nil, store.KV{}, err
	}
	obj, err := h.served(stored)
	return obj, kv, err
}

// serve dispatches a request for this resource.
func (h *resource) serve(w http.ResponseWriter, r *http.Request, ri requestInfo) {
	if err := h.check(ri); err != nil {
		writeError(w, r, err)
		return
	}
	var err error
	switch ri.Subresource {
	case "":
		err = h.serveMain(w, r, ri)
	case "status":
		err = h.serveStatus(w, r, ri)
	case "scale":
		err = h.serveScale(w, r, ri)
	case "binding":
		err = h.serveBinding(w, r, ri)
	case "eviction":
		err = h.serveEviction(w, r, ri)
	case "finalize":
		err = h.serveFinalize(w, r, ri)
	case "log", "exec", "attach", "portforward", "proxy":
		err = h.serveAgent(w, r, ri)
	default:
		err = apierrors.NewNotFound(h.gr, ri.Name)
		if h.hasSub(ri.Subresource) {
			err = apierrors.NewServiceUnavailable(fmt.Sprintf("%s/%s is served by the node agent, which this server does not run", h.res.Name, ri.Subresource))
		}
	}
	if err != nil {
		writeError(w, r, err)
	}
}

func (h *resource) check(ri requestInfo) error {
	if ri.Subresource != "" && !h.hasSub(ri.Subresource) {
		return apierrors.NewNotFound(schema.GroupResource{Group: h.gr.Group, Resource: h.gr.Resource + "/" + ri.Subresource}, ri.Name)
	}
	if !h.res.Namespaced && ri.Namespace != "" {
		return apierrors.NewNotFound(h.gr, ri.Name)
	}
	if h.res.Namespaced && ri.Namespace == "" && ri.Verb != "list" && ri.Verb != "watch" {
		return apierrors.NewNotFound(h.gr, ri.Name)
	}
	if len(h.res.Verbs) > 0 && ri.Subresource == "" && !slices.Contains(h.res.Verbs, ri.Verb) {
		return apierrors.NewMethodNotSupported(h.gr, ri.Verb)
	}
	return nil
}

func (h *resource) serveMain(w http.ResponseWriter, r *http.Request, ri requestInfo) error {
	switch ri.Verb {
	case "get":
		return h.get(w, r, ri)
	case "list":
		return h.list(w, r, ri)
	case "watch":
		return h.watch(w, r, ri)
	case "create":
		return h.create(w, r, ri)
	case "update":
		return h.update(w, r, ri, "")
	case "patch":
		return h.patch(w, r, ri, "")
	case "delete":
		return h.delete(w, r, ri)
	case "deletecollection":
		return h.deleteCollection(w, r, ri)
	}
	return apierrors.NewMethodNotSupported(h.gr, ri.Verb)
}
