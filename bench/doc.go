// Package bench measures a running skiff control plane from the outside,
// the way users compare it with upstream Kubernetes: over HTTPS on loopback,
// with client-go. It holds the load generators and the Go benchmarks that
// report their figures (see BENCHMARKS.md for the results and commands);
// bench/load is the same load as a command for any cluster.
//
// Each benchmark run starts its own server on a fresh data directory, as a
// separate process — the real `skiff server` binary, built once per `go
// test` — so that the server's CPU is not mixed with the load's:
//
//	go test ./bench -run '^$' -bench CreateConfigMaps32Clients -benchtime 20000x -count 5
//	go test ./bench -run '^$' -bench WatchLag100Watchers -benchtime 10000x -count 3
//
// With -serverprofile=FILE the server process is instead this test binary
// running the same server code under runtime/pprof: it writes a CPU profile
// of the server alone, from ready to stop, to FILE (and its allocations to
// FILE.allocs); the last benchmark run's profile is the one left. Tests in the package are quick unit tests; nothing here
// starts a server unless -bench selects a benchmark.
//
// The generators can be driven from any program:
//
//	cfg, _ := clientcmd.BuildConfigFromFlags("", kubeconfig)
//	res, err := bench.Creates(ctx, cfg, bench.CreateOptions{Clients: 32, Count: 20000})
//	fmt.Println(res.Rate(), res.Latency.Percentile(99))
package bench
