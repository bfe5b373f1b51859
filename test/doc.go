// Package test holds skiff's integration and end-to-end tests: each starts a
// real control plane (embedded etcd and the API server) through testenv and
// drives it with client-go, the real kubectl or etcdctl.
package test
