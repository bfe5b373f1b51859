// Package pki creates and keeps the certificates a skiff control plane needs:
// one certificate authority and the leaf certificates it signs.
//
// Everything lives as PEM files in one directory (DATA_DIR/tls):
//
//	ca.crt, ca.key                   the cluster CA (ECDSA P-256, 10 years)
//	server.crt, server.key           the API server's serving certificate
//	admin.crt, admin.key             client cert for system:admin in system:masters
//	etcd-server.crt, etcd-server.key the embedded etcd's serving certificate
//	etcd-client.crt, etcd-client.key client cert for the API server and etcdctl
//	kubelet-client.crt, .key         client cert the API server shows node agents
//
// Ensure is idempotent: the first call creates the files, later calls reuse
// whatever is still valid and replace only what is missing, expiring, not
// signed by the CA, or (for the serving certificate) missing a host name:
//
//	b, err := pki.Ensure(filepath.Join(dataDir, "tls"), []string{"10.0.0.5"})
//	if err != nil { ... }
//	pair, err := tls.LoadX509KeyPair(b.ServerCert, b.ServerKey)
//
// Keys are written with mode 0600, certificates with 0644.
package pki
