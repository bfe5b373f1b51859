package openapi

import (
	"reflect"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// definitionName is the name upstream gives the schema of a Go type: the
// package path with its leading domain reversed, then the type name.
// k8s.io/api/apps/v1.Deployment becomes io.k8s.api.apps.v1.Deployment.
func definitionName(t reflect.Type) string {
	pkg := t.PkgPath()
	domain, rest, _ := strings.Cut(pkg, "/")
	parts := strings.Split(domain, ".")
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	name := strings.Join(parts, ".")
	if rest != "" {
		name += "." + strings.ReplaceAll(rest, "/", ".")
	}
	return name + "." + t.Name()
}

// opGroup is the group-version part of operation ids, as upstream writes
// it: "CoreV1", "AppsV1", "RbacAuthorizationV1", "FlowcontrolApiserverV1".
func opGroup(gv schema.GroupVersion) string {
	group := "core"
	if gv.Group != "" {
		group = strings.TrimSuffix(gv.Group, ".k8s.io")
	}
	var b strings.Builder
	for _, part := range strings.Split(group, ".") {
		b.WriteString(title(part))
	}
	return b.String() + title(gv.Version)
}

// tag is the operation tag of a group-version: "core_v1", "apps_v1",
// "rbacAuthorization_v1".
func tag(gv schema.GroupVersion) string {
	g := opGroup(gv)
	g = strings.TrimSuffix(g, title(gv.Version))
	return strings.ToLower(g[:1]) + g[1:] + "_" + gv.Version
}

// gvPath is the key of a group-version in the OpenAPI v3 index and the
// prefix of its URLs: "api/v1", "apis/apps/v1".
func gvPath(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return "api/" + gv.Version
	}
	return "apis/" + gv.Group + "/" + gv.Version
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
