package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// User is an authenticated caller.
type User struct {
	Name   string
	UID    string
	Groups []string
}

// Attributes describe what a request wants to do, for authorization.
type Attributes struct {
	User        User
	Verb        string
	Group       string
	Resource    string
	Subresource string
	Namespace   string
	Name        string
	Path        string // for non-resource requests
	IsResource  bool
}

// Authorizer decides whether a request may proceed; reason explains a no.
type Authorizer interface {
	Authorize(ctx context.Context, a Attributes) (allowed bool, reason string)
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(ctx context.Context, a Attributes) (bool, string)

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, a Attributes) (bool, string) { return f(ctx, a) }

var _ Authorizer = AuthorizerFunc(nil)

// BootstrapAuthorizer allows members of system:masters everything, and any other
// authenticated user only what upstream's default roles grant the
// system:authenticated group (system:discovery, system:basic-user and
// system:public-info-viewer): reading discovery, OpenAPI, health and
// version, and asking what it may do. Node agents may also do what a
// kubelet needs (see nodeMay). It is the authorizer until RBAC is enforced.
var BootstrapAuthorizer = AuthorizerFunc(func(_ context.Context, a Attributes) (bool, string) {
	if slices.Contains(a.User.Groups, "system:masters") {
		return true, ""
	}
	if nodeMay(a) {
		return true, ""
	}
	return slices.Contains(a.User.Groups, "system:authenticated") && basicUserMay(a), ""
})

// basicUserMay tells whether upstream's default roles for every
// authenticated user allow a request.
func basicUserMay(a Attributes) bool {
	if a.IsResource {
		if a.Verb != "create" || a.Subresource != "" {
			return false
		}
		switch a.Group {
		case "authorization.k8s.io":
			return a.Resource == "selfsubjectaccessreviews" || a.Resource == "selfsubjectrulesreviews"
		case "authentication.k8s.io":
			return a.Resource == "selfsubjectreviews"
		}
		return false
	}
	if a.Verb != "get" {
		return false
	}
	switch a.Path {
	case "/api", "/apis", "/openapi", "/version", "/version/", "/livez", "/readyz", "/healthz",
		"/.well-known/openid-configuration", "/openid/v1/jwks":
		return true
	}
	return strings.HasPrefix(a.Path, "/api/") || strings.HasPrefix(a.Path, "/apis/") || strings.HasPrefix(a.Path, "/openapi/")
}

// authenticate reads the caller from the verified client certificate: the
// common name is the user, the organizations its groups.
func authenticate(r *http.Request) (User, bool) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.PeerCertificates) == 0 {
		return User{}, false
	}
	cert := r.TLS.PeerCertificates[0]
	if cert.Subject.CommonName == "" {
		return User{}, false
	}
	groups := append(slices.Clone(cert.Subject.Organization), "system:authenticated")
	return User{Name: cert.Subject.CommonName, Groups: groups}, true
}

// forbiddenMessage is upstream's wording for a denied request.
func forbiddenMessage(a Attributes) string {
	if !a.IsResource {
		return fmt.Sprintf("User %q cannot %s path %q", a.User.Name, strings.ToLower(a.Verb), a.Path)
	}
	resource := a.Resource
	if a.Subresource != "" {
		resource += "/" + a.Subresource
	}
	msg := fmt.Sprintf("User %q cannot %s resource %q in API group %q", a.User.Name, a.Verb, resource, a.Group)
	if a.Namespace != "" {
		msg += fmt.Sprintf(" in the namespace %q", a.Namespace)
	} else {
		msg += " at the cluster scope"
	}
	return msg
}

type userKey struct{}

func withUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

func userFrom(ctx context.Context) User {
	u, _ := ctx.Value(userKey{}).(User)
	return u
}
