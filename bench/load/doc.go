// Package main is the load command: it drives a Kubernetes API server with
// the loads of package bench and prints what they measured: `creates`
// (concurrent ConfigMap creates) or `watch` (update-to-watcher delivery
// lag). It reaches an existing cluster through -kubeconfig, or starts
// `skiff server` from -skiff on a fresh data directory and stops it
// afterwards:
//
//	go run ./bench/load -skiff bin/skiff creates -clients 32 -count 20000 -content protobuf
//	go run ./bench/load -kubeconfig ~/.kube/config watch -watchers 100 -updates 10000 -rate 100
package main
