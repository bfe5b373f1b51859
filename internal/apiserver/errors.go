package apiserver

import (
	"errors"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"skiff.dev/internal/store"
)

// writeError answers with err as a metav1.Status, in the media type the
// client accepts.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	status := toStatus(err)
	status.Kind, status.APIVersion = "Status", "v1"
	enc := negotiateError(r)
	w.Header().Set("Content-Type", enc.mediaType)
	w.WriteHeader(int(status.Code))
	_ = enc.encode(status, w)
}

func toStatus(err error) *metav1.Status {
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		s := se.Status()
		if s.Status == "" {
			s.Status = metav1.StatusFailure
		}
		return &s
	}
	switch {
	case errors.Is(err, store.ErrCompacted):
		s := apierrors.NewResourceExpired(err.Error()).ErrStatus
		return &s
	}
	s := apierrors.NewInternalError(err).ErrStatus
	return &s
}

// storeError maps a store error on one object to the API error upstream
// gives for it.
func storeError(err error, gr schema.GroupResource, name string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return apierrors.NewNotFound(gr, name)
	case errors.Is(err, store.ErrExists):
		return apierrors.NewAlreadyExists(gr, name)
	case errors.Is(err, store.ErrConflict):
		return conflict(gr, name)
	case errors.Is(err, store.ErrCompacted):
		return apierrors.NewResourceExpired(fmt.Sprintf("too old resource version: %v", err))
	}
	return err
}

func conflict(gr schema.GroupResource, name string) error {
	return apierrors.NewConflict(gr, name,
		errors.New("the object has been modified; please apply your changes to the latest version and try again"))
}

func badRequest(format string, args ...any) error {
	return apierrors.NewBadRequest(fmt.Sprintf(format, args...))
}

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
