package discovery

import (
	"slices"
	"strconv"
	"strings"
)

// Aggregated discovery is asked for with media type parameters naming the
// apidiscovery group, its version and the list kind.
const (
	discoveryGroup = "apidiscovery.k8s.io"
	discoveryKind  = "APIGroupDiscoveryList"
)

// aggregatedVersions are the apidiscovery versions served, newest first.
var aggregatedVersions = []string{"v2", "v2beta1"}

// aggregatedMediaType is the Content-Type of an aggregated document.
func aggregatedMediaType(version string) string {
	return "application/json;g=" + discoveryGroup + ";v=" + version + ";as=" + discoveryKind
}

// acceptClause is one media range of an Accept header.
type acceptClause struct {
	mediaType string
	params    map[string]string
	q         float64
}

// parseAccept splits an Accept header into its clauses, most preferred
// first (by q; ties keep the client's order).
func parseAccept(header string) []acceptClause {
	var out []acceptClause
	for _, part := range strings.Split(header, ",") {
		fields := strings.Split(part, ";")
		c := acceptClause{
			mediaType: strings.ToLower(strings.TrimSpace(fields[0])),
			params:    map[string]string{},
			q:         1,
		}
		if c.mediaType == "" {
			continue
		}
		for _, f := range fields[1:] {
			k, v, _ := strings.Cut(f, "=")
			k, v = strings.ToLower(strings.TrimSpace(k)), strings.Trim(strings.TrimSpace(v), `"`)
			if k == "q" {
				if q, err := strconv.ParseFloat(v, 64); err == nil {
					c.q = q
				}
				continue
			}
			c.params[k] = v
		}
		if c.q > 0 {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b acceptClause) int {
		switch {
		case a.q > b.q:
			return -1
		case a.q < b.q:
			return 1
		}
		return 0
	})
	return out
}

// negotiate picks the format of /api and /apis from an Accept header: the
// apidiscovery version of the first clause that asks for aggregated
// discovery in a version served, or "" for the legacy documents. Clauses
// asking for aggregated discovery as protobuf are answered with JSON: the
// client decodes by the Content-Type of the answer, and client-go always
// offers JSON as well.
func negotiate(accept string) string {
	for _, c := range parseAccept(accept) {
		if c.params["g"] == "" && c.params["as"] == "" {
			switch c.mediaType {
			case "application/json", "application/*", "*/*", "application/vnd.kubernetes.protobuf":
				return ""
			}
			continue
		}
		if c.params["g"] != discoveryGroup || c.params["as"] != discoveryKind {
			continue
		}
		switch c.mediaType {
		case "application/json", "application/vnd.kubernetes.protobuf", "application/*", "*/*":
		default:
			continue
		}
		if slices.Contains(aggregatedVersions, c.params["v"]) {
			return c.params["v"]
		}
	}
	return ""
}
