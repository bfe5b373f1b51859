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
	if err := shared.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
	}
	os.Exit(code)
}

// shared is the one server every benchmark of a run uses, started by the
// first benchmark that asks and stopped after the last.
var shared struct {
	once    sync.Once
	cfg     *rest.Config
	err     error
	proc    *bench.Process
	cleanup []func()
}

// serverConfig starts the shared server if needed and returns a config that
// reaches it as admin.
func serverConfig(b *testing.B) *rest.Config {
	b.Helper()
	shared.once.Do(func() { shared.cfg, shared.err = startShared() })
	if shared.err != nil {
		b.Fatal(shared.err)
	}
	return shared.cfg
}

func startShared() (*rest.Config, error) {
	tmp, err := os.MkdirTemp("", "skiff-bench-")
	if err != nil {
		return nil, err
	}
	shared.cleanup = append(shared.cleanup, func() { os.RemoveAll(tmp) })
	dataDir := filepath.Join(tmp, "data")
	var cmd *exec.Cmd
	if *serverProfile != "" {
		cmd = exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), childDataDir+"="+dataDir, childProfile+"="+*serverProfile)
	} else {
		bin := *skiffBin
		if bin == "" {
			bin = filepath.Join(tmp, "skiff")
			out, err := exec.Command("go", "build", "-o", bin, "skiff.dev/cmd/skiff").CombinedOutput()
			if err != nil {
				return nil, fmt.Errorf("go build: %v\n%s", err, out)
			}
		}
		cmd = bench.ServerCommand(bin, dataDir)
	}
	var log io.Writer
	if *serverLog != "" {
		f, err := os.OpenFile(*serverLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, err
		}
		shared.cleanup = append(shared.cleanup, func() { f.Close() })
		log = f
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := bench.StartProcess(ctx, cmd, dataDir, log)
	if err != nil {
		return nil, err
	}
	shared.proc = p
	return p.Config()
}

func (s *sharedServer) stop() error { return nil }

type sharedServer struct{}

// runProfiledServer is the child process of -serverprofile: the control
// plane of `skiff server`, profiled from ready until SIGTERM.
func runProfiledServer(dir, profile string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	s, err := server.Start(ctx, server.Options{DataDir: dir, BindAddress: "127.0.0.1", Log: os.Stderr})
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
