package apiserver

import "testing"

func TestNodeMay(t *testing.T) {
	node := User{Name: "system:node:n1", Groups: []string{"system:nodes", "system:authenticated"}}
	impostor := User{Name: "system:node:n1", Groups: []string{"system:authenticated"}}
	for _, tc := range []struct {
		name string
		a    Attributes
		want bool
	}{
		{"update own node status", Attributes{User: node, Verb: "patch", Resource: "nodes", Subresource: "status", Name: "n1"}, true},
		{"update another node's status", Attributes{User: node, Verb: "patch", Resource: "nodes", Subresource: "status", Name: "n2"}, false},
		{"register itself", Attributes{User: node, Verb: "create", Resource: "nodes"}, true},
		{"delete a node", Attributes{User: node, Verb: "delete", Resource: "nodes", Name: "n1"}, false},
		{"watch pods", Attributes{User: node, Verb: "watch", Resource: "pods"}, true},
		{"write pod status", Attributes{User: node, Verb: "update", Resource: "pods", Subresource: "status", Namespace: "a", Name: "p"}, true},
		{"exec into pods", Attributes{User: node, Verb: "create", Resource: "pods", Subresource: "exec", Namespace: "a", Name: "p"}, false},
		{"renew own lease", Attributes{User: node, Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Namespace: "kube-node-lease", Name: "n1"}, true},
		{"renew another lease", Attributes{User: node, Verb: "update", Group: "coordination.k8s.io", Resource: "leases", Namespace: "kube-node-lease", Name: "n2"}, false},
		{"lease elsewhere", Attributes{User: node, Verb: "create", Group: "coordination.k8s.io", Resource: "leases", Namespace: "kube-system"}, false},
		{"read secrets", Attributes{User: node, Verb: "get", Resource: "secrets", Namespace: "a", Name: "s"}, true},
		{"write secrets", Attributes{User: node, Verb: "update", Resource: "secrets", Namespace: "a", Name: "s"}, false},
		{"post events", Attributes{User: node, Verb: "create", Group: "events.k8s.io", Resource: "events", Namespace: "a"}, true},
		{"deployments", Attributes{User: node, Verb: "list", Group: "apps", Resource: "deployments"}, false},
		{"not in system:nodes", Attributes{User: impostor, Verb: "watch", Resource: "pods"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.a.IsResource = true
			if got, _ := BootstrapAuthorizer.Authorize(t.Context(), tc.a); got != tc.want {
				t.Errorf("allowed = %v, want %v", got, tc.want)
			}
		})
	}
}
