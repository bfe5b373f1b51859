package discovery

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/internal/registry"
)

// Discovery serves the discovery documents of a fixed set of resources.
// It is safe for concurrent use.
type Discovery struct {
	coreVersions  []string          // versions of the legacy core group, for /api
	groupList     []byte            // legacy /apis
	groups        map[string][]byte // legacy /apis/<group>
	resourceLists map[string][]byte // legacy /api/v1 and /apis/<group>/<version>, by group-version
	aggregated    map[aggregatedKey]document
}

type aggregatedKey struct {
	path    string // "/api" or "/apis"
	version string // apidiscovery version
}

// document is a marshalled answer and its entity tag.
type document struct {
	body []byte
	etag string
}

// New builds the discovery documents of resources. Groups are listed in
// the order they first appear in resources.
func New(resources []registry.Resource) *Discovery {
	groups := buildGroups(resources)
	d := &Discovery{
		groupList:     mustMarshal(apiGroupList(groups)),
		groups:        map[string][]byte{},
		resourceLists: map[string][]byte{},
		aggregated:    map[aggregatedKey]document{},
	}
	for _, g := range groups {
		if g.name == "" {
			for _, v := range g.versions {
				d.coreVersions = append(d.coreVersions, v.gv.Version)
			}
		} else {
			d.groups[g.name] = mustMarshal(apiGroup(g))
		}
		for _, v := range g.versions {
			d.resourceLists[v.gv.String()] = mustMarshal(apiResourceList(v))
		}
	}
	for _, version := range aggregatedVersions {
		apiVersion := discoveryGroup + "/" + version
		for _, path := range []string{"/api", "/apis"} {
			body := mustMarshal(aggregatedList(groups, path == "/api", apiVersion))
			sum := sha256.Sum256(body)
			d.aggregated[aggregatedKey{path, version}] = document{body, `"` + hex.EncodeToString(sum[:]) + `"`}
		}
	}
	return d
}

// Handles reports whether path is a discovery path: /api, /apis, /api/<v>,
// /apis/<group> or /apis/<group>/<version>, with or without a trailing
// slash. Discovery answers 404 for such paths it has no document for.
func (d *Discovery) Handles(path string) bool {
	parts := splitPath(path)
	switch {
	case len(parts) == 0:
		return false
	case parts[0] == "api":
		return len(parts) <= 2
	case parts[0] == "apis":
		return len(parts) <= 3
	}
	return false
}

// ServeHTTP answers a GET or HEAD of a discovery path.
func (d *Discovery) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		WriteStatus(w, http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed,
			"the server does not allow this method on the requested resource")
		return
	}
	parts := splitPath(r.URL.Path)
	if !d.Handles(r.URL.Path) {
		notFound(w)
		return
	}
	if len(parts) == 1 {
		d.serveRoot(w, r, "/"+parts[0])
		return
	}
	var body []byte
	var ok bool
	switch {
	case parts[0] == "api":
		body, ok = d.resourceLists[parts[1]]
	case len(parts) == 2:
		body, ok = d.groups[parts[1]]
	default:
		body, ok = d.resourceLists[parts[1]+"/"+parts[2]]
	}
	if !ok {
		notFound(w)
		return
	}
	writeJSON(w, "application/json", body)
}

// serveRoot answers /api or /apis, aggregated when the client asks for it.
func (d *Discovery) serveRoot(w http.ResponseWriter, r *http.Request, path string) {
	w.Header().Add("Vary", "Accept")
	if version := negotiate(r.Header.Get("Accept")); version != "" {
		doc := d.aggregated[aggregatedKey{path, version}]
		w.Header().Set("ETag", doc.etag)
		if etagMatches(r.Header.Get("If-None-Match"), doc.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		writeJSON(w, aggregatedMediaType(version), doc.body)
		return
	}
	if path == "/apis" {
		writeJSON(w, "application/json", d.groupList)
		return
	}
	writeJSON(w, "application/json", mustMarshal(apiVersions(d.coreVersions, r.Host)))
}

// etagMatches reports whether an If-None-Match header names etag.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

func splitPath(path string) []string {
	path = strings.Trim(path, "/")
	if path == "" {
		return nil
	}
	return strings.Split(path, "/")
}

func writeJSON(w http.ResponseWriter, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

func notFound(w http.ResponseWriter) {
	WriteStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound,
		"the server could not find the requested resource")
}

// WriteStatus answers with a failure Status, as the API server does.
func WriteStatus(w http.ResponseWriter, code int32, reason metav1.StatusReason, message string) {
	body := mustMarshal(&metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure,
		Message:  message,
		Reason:   reason,
		Details:  &metav1.StatusDetails{},
		Code:     code,
	})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(code))
	w.Write(body)
}

// mustMarshal encodes a discovery type; these always encode.
func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("discovery: " + err.Error())
	}
	return b
}
