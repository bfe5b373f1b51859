package apiserver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/internal/store"
)

func (h *resource) get(w http.ResponseWriter, r *http.Request, ri requestInfo) error {
	if r.URL.Query().Get("resourceVersion") == "0" {
		if obj, _, ok := h.cache.Get(h.key(ri.Namespace, ri.Name)); ok {
			out, err := h.served(obj)
			if err != nil {
				return err
			}
			return h.respond(w, r, http.StatusOK, out, nil)
		}
	}
	obj, _, err := h.load(r.Context(), ri.Namespace, ri.Name)
	if err != nil {
		return err
	}
	return h.respond(w, r, http.StatusOK, obj, nil)
}

func (h *resource) list(w http.ResponseWriter, r *http.Request, ri requestInfo) error {
	q := r.URL.Query()
	sel, err := h.selection(q, ri.Namespace)
	if err != nil {
		return err
	}
	limit, _ := strconv.ParseInt(q.Get("limit"), 10, 64)
	rv := q.Get("resourceVersion")
	var items []runtime.Object
	var rev int64
	var cont string
	var remaining *int64
	switch {
	case q.Get("continue") != "" || (limit > 0 && rv == ""):
		items, rev, cont, remaining, err = h.listStore(r.Context(), sel, limit, q.Get("continue"), 0)
	case rv != "" && rv != "0" && q.Get("resourceVersionMatch") == "Exact":
		at, perr := strconv.ParseInt(rv, 10, 64)
		if perr != nil {
			return badRequest("invalid resourceVersion %q", rv)
		}
		items, rev, _, _, err = h.listStore(r.Context(), sel, 0, "", at)
	default:
		items, rev, err = h.listCache(r.Context(), sel, rv)
	}
	if err != nil {
		return err
	}
	list, err := h.newList(items, rev, cont, remaining)
	if err != nil {
		return err
	}
	return h.respond(w, r, http.StatusOK, list, nil)
}

func (h *resource) listCache(ctx context.Context, sel selection, rv string) ([]runtime.Object, int64, error) {
	switch rv {
	case "":
		objs, rev, err := h.cache.List(ctx, true, h.filter(sel))
		return objs, rev, err
	case "0":
		objs, rev, err := h.cache.List(ctx, false, h.filter(sel))
		return objs, rev, err
	}
	at, err := strconv.ParseInt(rv, 10, 64)
	if err != nil {
		return nil, 0, badRequest("invalid resourceVersion %q", rv)
	}
	wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := h.cache.WaitFor(wctx, at); err != nil {
		if ctx.Err() == nil {
			return nil, 0, apierrors.NewTimeoutError("Too large resource version: "+rv, 1)
		}
		return nil, 0, err
	}
	return h.cache.List(ctx, false, h.filter(sel))
}

// continueToken is what a continue parameter encodes: the revision of the
// first page and the key to start the next one at.
type continueToken struct {
	Version string `json:"v"`
	Rev     int64  `json:"rv"`
	Start   string `json:"start"`
}

// listStore reads a list from etcd, a page at a time when limit is set.
func (h *resource) listStore(ctx context.Context, sel selection, limit int64, cont string, rev int64) ([]runtime.Object, int64, string, *int64, error) {
	prefix := h.keyPrefix(sel.namespace)
	start := ""
	if cont != "" {
		b, err := base64.RawURLEncoding.DecodeString(cont)
		var tok continueToken
		if err == nil {
			err = json.Unmarshal(b, &tok)
		}
		if err != nil || tok.Rev <= 0 || strings.Contains(tok.Start, "..") {
			return nil, 0, "", nil, badRequest("continue key is not valid")
		}
		rev, start = tok.Rev, prefix+tok.Start
	}
	filter := h.filter(sel)
	var out []runtime.Object
	for {
		page, err := h.srv.opts.Store.List(ctx, prefix, start, limit, rev)
		if errors.Is(err, store.ErrCompacted) && cont != "" {
			return nil, 0, "", nil, apierrors.NewResourceExpired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
		}
		if err != nil {
			return nil, 0, "", nil, storeError(err, h.gr, "")
		}
		rev = page.Rev
		for _, kv := range page.KVs {
			obj, err := h.decodeStored(kv)
			if err != nil {
				continue
			}
			if filter == nil || filter(obj) {
				out = append(out, obj)
			}
			start = kv.Key + "\x00"
			if limit > 0 && int64(len(out)) == limit {
				break
			}
		}
		if !page.More || limit == 0 {
			return out, rev, "", nil, nil
		}
		if int64(len(out)) >= limit {
			tok, _ := json.Marshal(continueToken{Version: "meta.k8s.io/v1", Rev: rev, Start: strings.TrimPrefix(start, prefix)})
			var remaining *int64
			if filter == nil && len(page.KVs) > 0 && start == page.KVs[len(page.KVs)-1].Key+"\x00" {
				n := page.Remaining
				remaining = &n
			}
			return out, rev, base64.RawURLEncoding.EncodeToString(tok), remaining, nil
		}
	}
}

// newList builds the served kind's List object around items (stored kind).
func (h *resource) newList(items []runtime.Object, rev int64, cont string, remaining *int64) (runtime.Object, error) {
	listGVK := h.res.Kind.GroupVersion().WithKind(h.res.Kind.Kind + "List")
	list, err := scheme.New(listGVK)
	if err != nil {
		return nil, err
	}
	served := make([]runtime.Object, len(items))
	for i, item := range items {
		if served[i], err = h.served(item); err != nil {
			return nil, err
		}
	}
	if err := meta.SetList(list, served); err != nil {
		return nil, err
	}
	lm, err := meta.ListAccessor(list)
	if err != nil {
		return nil, err
	}
	lm.SetResourceVersion(strconv.FormatInt(rev, 10))
	lm.SetContinue(cont)
	lm.SetRemainingItemCount(remaining)
	list.GetObjectKind().SetGroupVersionKind(listGVK)
	return list, nil
}
