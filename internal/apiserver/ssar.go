package apiserver

import (
	"net/http"

	authorizationv1 "k8s.io/api/authorization/v1"
)

// selfSubjectAccessReview answers "may I?" with the server's authorizer.
func (h *resource) selfSubjectAccessReview(w http.ResponseWriter, r *http.Request, body []byte) error {
	review := &authorizationv1.SelfSubjectAccessReview{}
	if _, err := decodeBody(r, body, h.res.Kind, review); err != nil {
		return err
	}
	if h.res.Strategy.Validate != nil {
		if err := h.invalid("", h.res.Strategy.Validate(review)); err != nil {
			return err
		}
	}
	u := userFrom(r.Context())
	a := Attributes{User: u}
	if ra := review.Spec.ResourceAttributes; ra != nil {
		a.IsResource = true
		a.Verb, a.Group, a.Resource, a.Subresource = ra.Verb, ra.Group, ra.Resource, ra.Subresource
		a.Namespace, a.Name = ra.Namespace, ra.Name
	} else if na := review.Spec.NonResourceAttributes; na != nil {
		a.Verb, a.Path = na.Verb, na.Path
	}
	allowed, reason := h.srv.opts.Authorizer.Authorize(r.Context(), a)
	review.Status = authorizationv1.SubjectAccessReviewStatus{Allowed: allowed, Reason: reason, Denied: !allowed}
	if allowed {
		review.Status.Denied = false
	}
	return h.respond(w, r, http.StatusCreated, review, nil)
}
