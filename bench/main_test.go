package bench_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"skiff.dev/bench"
	"skiff.dev/internal/server"
)

var (
	skiffBin      = flag.String("skiff", "", "skiff binary to benchmark; empty builds ./cmd/skiff once per run")
	serverProfile = flag.String("serverprofile", "", "run the server as this test binary under runtime/pprof and write its CPU profile here (allocations to FILE.allocs)")
	serverLog     = flag.String("serverlog", "", "append the server's stderr to this file")
)

// Environment of the server child started for -serverprofile.
const (
	childDataDir = "SKIFF_BENCH_SERVER_DIR"
	childProfile = "SKIFF_BENCH_SERVER_PROFILE"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childDataDir); dir != "" {
		os.Exit(runProfiledServer(dir, os.Getenv(childProfile)))
	}
	flag.Parse()
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// startServer starts a control plane on a fresh data directory for one
// benchmark run and stops it when the run ends, so that runs do not see
// each other's objects. Every run's server is a new process: with
// -serverprofile, the file holds the profile of the last run.
func startServer(b *testing.B) (*rest.Config, *bench.Process) {
	b.Helper()
	tmp := b.TempDir()
	dataDir := filepath.Join(tmp, "data")
	var cmd *exec.Cmd
	if *serverProfile != "" {
		cmd = exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), childDataDir+"="+dataDir, childProfile+"="+*serverProfile)
	} else {
		bin, err := skiffBinary()
		if err != nil {
			b.Fatal(err)
		}
		cmd = bench.ServerCommand(bin, dataDir)
	}
	var log io.Writer
	if *serverLog != "" {
		f, err := os.OpenFile(*serverLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { f.Close() })
		log = f
	}
	ctx, cancel := context.WithTimeout(b.Context(), time.Minute)
	defer cancel()
	p, err := bench.StartProcess(ctx, cmd, dataDir, log)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := p.Stop(30 * time.Second); err != nil {
			b.Errorf("server: %v", err)
		}
	})
	cfg, err := p.Config()
	if err != nil {
		b.Fatal(err)
	}
	return cfg, p
}

// cpuMeter measures the CPU time the server and this process (the load)
// spend during a run. CPU per operation moves much less than throughput on
// a shared machine, so it is the figure to compare across changes.
type cpuMeter struct {
	p            *bench.Process
	server, load time.Duration
}

func startCPU(b *testing.B, p *bench.Process) cpuMeter {
	b.Helper()
	server, err := p.CPUTime()
	if err != nil {
		b.Fatal(err)
	}
	return cpuMeter{p: p, server: server, load: bench.SelfCPUTime()}
}

// report adds server-cpu-us/UNIT and load-cpu-us/UNIT for n operations.
func (m cpuMeter) report(b *testing.B, n int, unit string) {
	b.Helper()
	server, err := m.p.CPUTime()
	if err != nil {
		b.Fatal(err)
	}
	load := bench.SelfCPUTime()
	b.ReportMetric(float64((server-m.server).Microseconds())/float64(n), "server-cpu-us/"+unit)
	b.ReportMetric(float64((load-m.load).Microseconds())/float64(n), "load-cpu-us/"+unit)
}

// built is the skiff binary of this run: -skiff, or ./cmd/skiff built once.
var built struct {
	once sync.Once
	path string
	err  error
	dir  string
}

func skiffBinary() (string, error) {
	built.once.Do(func() {
		if *skiffBin != "" {
			built.path = *skiffBin
			return
		}
		built.dir, built.err = os.MkdirTemp("", "skiff-bench-")
		if built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "skiff")
		cmd := exec.Command("go", "build", "-o", built.path, "skiff.dev/cmd/skiff")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0") // as `make build`: static, smaller RSS
		out, err := cmd.CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build (run in the module, or pass -skiff): %v\n%s", err, out)
		}
	})
	return built.path, built.err
}

// runProfiledServer is the child process of -serverprofile: the control
// plane of `skiff server`, profiled from ready until SIGTERM.
func runProfiledServer(dir, profile string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	s, err := server.Start(ctx, server.Options{DataDir: dir, BindAddress: "127.0.0.1", Log: os.Stderr, WithoutScheduler: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	f, err := os.Create(profile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	<-ctx.Done()
	pprof.StopCPUProfile()
	code := 0
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	if err := writeProfile("allocs", profile+".allocs"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	_ = s.Wait()
	return code
}

func writeProfile(name, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
