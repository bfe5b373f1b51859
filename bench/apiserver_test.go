package bench_test

import (
	"testing"

	"skiff.dev/bench"
)

// BenchmarkCreateConfigMaps32Clients: 32 clients, each with its own
// clientset, create b.N small ConfigMaps in all over HTTPS. Upstream 1.34 on
// the same machine: 968 creates/s, p99 80 ms. Run with -benchtime 20000x.
//
// The sub-benchmarks vary what the clients send: JSON (a clientset's
// default) or protobuf (what Kubernetes' components ask for), over the one
// HTTP/2 connection client-go shares between equal configs or over a
// connection per client.
func BenchmarkCreateConfigMaps32Clients(b *testing.B) {
	for _, c := range []struct {
		name string
		opts bench.CreateOptions
	}{
		{"JSON", bench.CreateOptions{ContentType: bench.JSON}},
		{"Protobuf", bench.CreateOptions{ContentType: bench.Protobuf}},
		{"JSONConnPerClient", bench.CreateOptions{ContentType: bench.JSON, ConnPerClient: true}},
	} {
		b.Run(c.name, func(b *testing.B) {
			cfg, p := startServer(b)
			o := c.opts
			o.Clients, o.Count = 32, b.N
			cpu := startCPU(b, p)
			b.ResetTimer()
			res, err := bench.Creates(b.Context(), cfg, o)
			b.StopTimer()
			cpu.report(b, b.N, "create")
			if err != nil {
				b.Fatal(err)
			}
			if res.Errors > 0 {
				b.Fatalf("%d of %d creates failed, first: %v", res.Errors, b.N, res.Err)
			}
			b.ReportMetric(res.Rate(), "creates/s")
			b.ReportMetric(bench.Ms(res.Latency.Percentile(50)), "p50-ms")
			b.ReportMetric(bench.Ms(res.Latency.Percentile(90)), "p90-ms")
			b.ReportMetric(bench.Ms(res.Latency.Percentile(99)), "p99-ms")
			if b.N > 1 {
				b.Log(res)
			}
		})
	}
}

// BenchmarkWatchLag100Watchers: 100 client-go watches (JSON) on the
// ConfigMaps of one namespace, while 4 writers update 16 of them b.N times
// in all; each update carries its send time, and every delivery is timed
// against it. Run with -benchtime 10000x.
//
// Unpaced writers go as fast as their answers come back, so the lag
// includes the backlog of a saturated machine (on 2 cores, about 60%
// of the CPU goes to client-go decoding the 100× fan-out, in this process);
// Paced100 holds them to 100 updates/s (10,000 deliveries/s), which leaves
// the machine about half idle, so its lag is the pipeline's own.
func BenchmarkWatchLag100Watchers(b *testing.B) {
	for _, c := range []struct {
		name    string
		rate    float64
		ownConn bool
	}{
		{"Unpaced", 0, false},
		{"Paced100", 100, false},
		{"Paced100ConnPerWatcher", 100, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			cfg, p := startServer(b)
			cpu := startCPU(b, p)
			b.ResetTimer()
			res, err := bench.WatchLag(b.Context(), cfg, bench.WatchOptions{
				Watchers: 100, Writers: 4, Updates: b.N, Rate: c.rate, ConnPerWatcher: c.ownConn})
			b.StopTimer()
			cpu.report(b, res.Deliveries, "delivery")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(res.Updates)/res.Elapsed.Seconds(), "updates/s")
			b.ReportMetric(bench.Ms(res.Lag.Percentile(50)), "lag-p50-ms")
			b.ReportMetric(bench.Ms(res.Lag.Percentile(99)), "lag-p99-ms")
			b.ReportMetric(bench.Ms(res.Update.Percentile(99)), "update-p99-ms")
			if b.N > 1 {
				b.Log(res)
			}
		})
	}
}
