// Package join lets a node agent join a cluster with a token, the way k3s
// agents do.
//
// `skiff server` keeps a token in DATA_DIR/token. It has the form
//
//	skiff:<sha256 of the cluster CA certificate, hex>:<secret>
//
// An agent given the token first fetches the CA from /skiff/v1/cacerts
// without trusting the connection, checks the CA against the hash in the
// token, and from then on talks to the server only over TLS verified with
// that CA. It then posts its node name to /skiff/v1/join with the secret as
// a bearer token and gets back a client certificate for
// system:node:<name> in group system:nodes and a serving certificate for
// its own HTTPS server, both signed by the cluster CA:
//
//	creds, err := join.Join(ctx, join.Request{Server: url, Token: token,
//		NodeName: "node-1", Hosts: []string{"10.0.0.7"}, Dir: dir})
//	// creds.Kubeconfig is a kubeconfig for the node's identity.
//
// Credentials are kept in Dir and reused while they are valid for the same
// cluster and node.
package join
