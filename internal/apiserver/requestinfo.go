package apiserver

import (
	"net/http"
	"strings"
)

// requestInfo is what a resource URL asks for.
type requestInfo struct {
	Verb        string // get list watch create update patch delete deletecollection
	Group       string
	Version     string
	Namespace   string
	Resource    string
	Name        string
	Subresource string
	Parts       []string // path parts after the subresource (pods/x/proxy/...)
}

// parseRequest reads a path under /api/v1 or /apis/<group>/<version>. It
// returns false for paths that name no resource (discovery documents).
func parseRequest(r *http.Request) (requestInfo, bool) {
	var ri requestInfo
	parts := splitPath(r.URL.Path)
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		ri.Version, parts = parts[1], parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		ri.Group, ri.Version, parts = parts[1], parts[2], parts[3:]
	default:
		return ri, false
	}
	if len(parts) == 0 {
		return ri, false
	}
	watchPath := parts[0] == "watch"
	if watchPath {
		parts = parts[1:]
	}
	if len(parts) >= 2 && parts[0] == "namespaces" {
		ri.Namespace = parts[1]
		if len(parts) > 2 && parts[2] != "status" && parts[2] != "finalize" {
			parts = parts[2:]
		} else {
			ri.Namespace = ""
		}
	}
	if len(parts) == 0 {
		return ri, false
	}
	ri.Resource = parts[0]
	if len(parts) > 1 {
		ri.Name = parts[1]
	}
	if len(parts) > 2 {
		ri.Subresource = parts[2]
		ri.Parts = parts[3:]
	}
	watchParam := r.URL.Query().Get("watch")
	isWatch := watchPath || watchParam == "true" || watchParam == "1"
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		switch {
		case isWatch:
			ri.Verb = "watch"
		case ri.Name == "":
			ri.Verb = "list"
		default:
			ri.Verb = "get"
		}
	case http.MethodPost:
		ri.Verb = "create"
	case http.MethodPut:
		ri.Verb = "update"
	case http.MethodPatch:
		ri.Verb = "patch"
	case http.MethodDelete:
		ri.Verb = "delete"
		if ri.Name == "" {
			ri.Verb = "deletecollection"
		}
	default:
		ri.Verb = strings.ToLower(r.Method)
	}
	return ri, true
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}
