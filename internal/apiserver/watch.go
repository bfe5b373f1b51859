package apiserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/watch"

	"skiff.dev/internal/store"
	"skiff.dev/internal/watchcache"
)

// initialEventsEnd marks the bookmark that ends the initial events of a
// watch with sendInitialEvents=true.
const initialEventsEnd = "k8s.io/initial-events-end"

// defaultWatchTimeout bounds a watch without timeoutSeconds.
const defaultWatchTimeout = 30 * time.Minute

func (h *resource) watch(w http.ResponseWriter, r *http.Request, ri requestInfo) error {
	q := r.URL.Query()
	sel, err := h.selection(q, ri.Namespace)
	if err != nil {
		return err
	}
	if ri.Name != "" { // a watch on one object is a field selector on its name
		sel.fields, err = mergeNameSelector(sel, ri.Name)
		if err != nil {
			return err
		}
	}
	enc, err := negotiate(r)
	if err != nil {
		return err
	}
	if enc.info.StreamSerializer == nil {
		return badRequest("no streaming form of %s", enc.mediaType)
	}
	timeout := defaultWatchTimeout
	if s := q.Get("timeoutSeconds"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return badRequest("invalid timeoutSeconds %q", s)
		}
		timeout = time.Duration(n) * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()

	bookmarks := q.Get("allowWatchBookmarks") == "true"
	initial := q.Get("sendInitialEvents") == "true"
	rv := q.Get("resourceVersion")
	var from int64
	if rv != "" && rv != "0" {
		if from, err = strconv.ParseInt(rv, 10, 64); err != nil {
			return badRequest("invalid resourceVersion %q", rv)
		}
	}
	if initial {
		if !bookmarks || q.Get("resourceVersionMatch") != "NotOlderThan" {
			return apierrors.NewInvalid(schema.GroupKind{Group: "meta.k8s.io", Kind: "ListOptions"}, "", field.ErrorList{
				field.Forbidden(field.NewPath("sendInitialEvents"), "sendInitialEvents requires allowWatchBookmarks=true and resourceVersionMatch=NotOlderThan")})
		}
		if rv == "" {
			if err := h.cache.Sync(ctx); err != nil {
				return err
			}
		} else if err := h.cache.WaitFor(ctx, from); err != nil {
			return err
		}
		from = 0
	}
	cw, err := h.cache.Watch(ctx, from, h.filter(sel))
	if err != nil {
		return err
	}
	defer cw.Stop()

	ws := &watchStream{h: h, r: r, enc: enc, w: w}
	ws.out = streaming.NewEncoder(enc.info.StreamSerializer.Framer.NewFrameWriter(w), enc.info.StreamSerializer.Serializer)
	w.Header().Set("Content-Type", enc.mediaType)
	w.Header().Set("Cache-Control", "no-cache, private")
	w.WriteHeader(http.StatusOK)
	ws.flush()

	ticker := time.NewTicker(h.srv.opts.BookmarkInterval)
	defer ticker.Stop()
	initialPending := initial
	for {
		evs, rev, werr, ok := cw.TryNext()
		if ok {
			if werr != nil {
				return ws.end(werr, from)
			}
			for _, ev := range evs {
				if err := ws.send(ev); err != nil {
					return nil
				}
			}
			if initialPending {
				initialPending = false
				if err := ws.bookmark(rev, true); err != nil {
					return nil
				}
			}
			ws.flush()
			continue
		}
		if initialPending { // nothing to send initially: the bookmark at once
			initialPending = false
			if err := ws.bookmark(rev, true); err != nil {
				return nil
			}
			ws.flush()
		}
		select {
		case <-cw.Signal():
		case <-ticker.C:
			if bookmarks {
				if now := cw.Poll(); now > 0 {
					if err := ws.bookmark(now, false); err != nil {
						return nil
					}
					ws.flush()
				}
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// watchStream writes watch events to one client.
type watchStream struct {
	h   *resource
	r   *http.Request
	enc encoder
	w   http.ResponseWriter
	out streaming.Encoder
}

func (ws *watchStream) flush() {
	if f, ok := ws.w.(http.Flusher); ok {
		f.Flush()
	}
}

func (ws *watchStream) send(ev watchcache.Event) error {
	if ws.enc.as == asObject && ws.h.res.FromStorage == nil {
		// The common case: the stored object as it is, encoded once for
		// every watcher that wants this media type.
		raw, err := ev.Memo.Get(ws.enc.mediaType, func() ([]byte, error) {
			setKind(ev.Object)
			return runtime.Encode(ws.enc.info.Serializer, ev.Object)
		})
		if err != nil {
			return err
		}
		if ws.enc.info.MediaType == mediaJSON {
			// A JSON watch frame is one line; build it once per event type.
			frame, err := ev.Memo.Get("frame:"+string(ev.Type)+":"+ws.enc.mediaType, func() ([]byte, error) {
				return jsonFrame(ev.Type, raw), nil
			})
			if err != nil {
				return err
			}
			_, err = ws.w.Write(frame)
			return err
		}
		return ws.out.Encode(&metav1.WatchEvent{Type: string(ev.Type), Object: runtime.RawExtension{Raw: raw}})
	}
	obj, err := ws.h.served(ev.Object)
	if err != nil {
		return err
	}
	out, err := ws.h.transform(ws.r, ws.enc, obj)
	if err != nil {
		return err
	}
	return ws.write(ev.Type, out)
}

func (ws *watchStream) write(t watch.EventType, obj runtime.Object) error {
	setKind(obj)
	raw, err := runtime.Encode(ws.enc.info.Serializer, obj)
	if err != nil {
		return err
	}
	return ws.out.Encode(&metav1.WatchEvent{Type: string(t), Object: runtime.RawExtension{Raw: raw}})
}

// bookmark sends a BOOKMARK: an empty object carrying only the revision.
func (ws *watchStream) bookmark(rev int64, initialEnd bool) error {
	obj := ws.h.newObject()
	m, _ := meta.Accessor(obj)
	m.SetResourceVersion(strconv.FormatInt(rev, 10))
	if initialEnd {
		m.SetAnnotations(map[string]string{initialEventsEnd: "true"})
	}
	obj.GetObjectKind().SetGroupVersionKind(ws.h.res.Kind)
	out := obj
	if ws.enc.as == asPartialMeta || ws.enc.as == asPartialList {
		out = partialMeta(obj)
	}
	return ws.write(watch.Bookmark, out)
}

// end closes the stream after the watcher failed: a revision that is gone
// becomes an ERROR event with 410 Expired, as upstream sends it.
func (ws *watchStream) end(err error, from int64) error {
	if errors.Is(err, store.ErrCompacted) {
		status := apierrors.NewResourceExpired(fmt.Sprintf("too old resource version: %d", from)).ErrStatus
		status.Kind, status.APIVersion = "Status", "v1"
		_ = ws.write(watch.Error, &status)
		ws.flush()
	}
	return nil
}

// mergeNameSelector adds metadata.name=name to a selection's field selector.
func mergeNameSelector(sel selection, name string) (fields.Selector, error) {
	byName := fields.OneTermEqualSelector("metadata.name", name)
	if sel.fields.Empty() {
		return byName, nil
	}
	return fields.AndSelectors(sel.fields, byName), nil
}

// jsonFrame is a JSON watch event line: {"type":"...","object":...}.
func jsonFrame(t watch.EventType, raw []byte) []byte {
	raw = bytes.TrimRight(raw, "\n")
	b := make([]byte, 0, len(raw)+len(t)+24)
	b = append(b, `{"type":"`...)
	b = append(b, t...)
	b = append(b, `","object":`...)
	b = append(b, raw...)
	return append(b, "}\n"...)
}
