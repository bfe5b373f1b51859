package apiserver

import (
	"slices"
	"strings"
)

// nodeMay tells whether a node agent (user system:node:<name> in group
// system:nodes) may make a request. It grants what upstream's system:node
// role and Node authorizer grant a kubelet, narrowed the way the Node
// authorizer narrows writes: a node writes only its own Node and Lease.
// Reads of the objects its pods use (ConfigMaps, Secrets, volumes) are not
// yet narrowed to those pods.
func nodeMay(a Attributes) bool {
	node, ok := strings.CutPrefix(a.User.Name, "system:node:")
	if !ok || node == "" || !slices.Contains(a.User.Groups, "system:nodes") || !a.IsResource {
		return false
	}
	read := a.Verb == "get" || a.Verb == "list" || a.Verb == "watch"
	own := a.Name == "" || a.Name == node
	switch a.Group + "/" + a.Resource {
	case "/nodes":
		switch a.Subresource {
		case "":
			return read || (own && slices.Contains([]string{"create", "update", "patch"}, a.Verb))
		case "status":
			return own && (a.Verb == "get" || a.Verb == "update" || a.Verb == "patch")
		}
	case "/pods":
		switch a.Subresource {
		case "":
			// create and delete are for the mirror pods of static pods and
			// for the final delete after graceful termination.
			return read || a.Verb == "create" || a.Verb == "delete"
		case "status":
			return a.Verb == "get" || a.Verb == "update" || a.Verb == "patch"
		case "eviction":
			return a.Verb == "create"
		}
	case "/events", "events.k8s.io/events":
		return a.Verb == "create" || a.Verb == "update" || a.Verb == "patch"
	case "coordination.k8s.io/leases":
		return a.Namespace == "kube-node-lease" && own && a.Subresource == "" &&
			(read || slices.Contains([]string{"create", "update", "patch", "delete"}, a.Verb))
	case "/configmaps", "/secrets", "/services", "/endpoints", "discovery.k8s.io/endpointslices",
		"/persistentvolumeclaims", "/persistentvolumes", "storage.k8s.io/storageclasses":
		return read && a.Subresource == ""
	case "authentication.k8s.io/tokenreviews", "authorization.k8s.io/subjectaccessreviews":
		return a.Verb == "create"
	}
	return false
}
