// Package main is the skiff command: it runs a Kubernetes cluster from one binary.
//
//	skiff up                  control plane and node in one process
//	skiff server              control plane only
//	skiff kubectl get ns      the upstream kubectl, pointed at the local cluster
//	skiff kubeconfig          print the admin kubeconfig
//	skiff version             skiff's version and the Kubernetes version it serves
//
// This package only parses flags and wires components together; the work
// happens in internal/server and the packages it assembles.
package main
