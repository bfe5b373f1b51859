package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/klog/v2"

	"skiff.dev/internal/controllers"
	"skiff.dev/internal/controllers/ctrl"
	"skiff.dev/internal/pageout"
	"skiff.dev/internal/server"
)

func newServerCommand() *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the control plane: API server and cluster store",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd.Context(), func(_ context.Context, s *server.Server) (<-chan struct{}, error) {
				slog.Info("API server ready", "url", s.URL(), "kubeconfig", s.Kubeconfig())
				return nil, nil
			})
		},
	}
	f.register(cmd.Flags())
	return cmd
}

// serverFlags are the flags of `skiff server` and `skiff up`.
type serverFlags struct {
	dataDir     string
	apiPort     int
	bindAddress string
	etcdServers []string
	logLevel    string
	noScheduler bool
	cpuProfile  string
	controllers []string
	loops       ctrl.Options
	notReadyTol int64
	unreachTol  int64
}

func (f *serverFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.dataDir, "data-dir", defaultDataDir(), "directory for the cluster store, certificates and admin kubeconfig; $SKIFF_DATA_DIR sets the default")
	fs.IntVar(&f.apiPort, "api-port", 6443, "HTTPS port of the API server; 0 picks a free one")
	fs.StringVar(&f.bindAddress, "bind-address", "", "address the API server listens on; empty means all")
	fs.StringSliceVar(&f.etcdServers, "etcd-servers", nil, "comma-separated client URLs of an external etcd to use instead of the embedded one")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file (for performance work)")
	_ = fs.MarkHidden("cpuprofile")
	fs.BoolVar(&f.noScheduler, "disable-scheduler", false, "run no scheduler; pods stay Pending unless another scheduler binds them")
	fs.StringSliceVar(&f.controllers, "controllers", []string{"*"}, "control loops to run: '*' is all, 'name' adds one, '-name' removes one; all: "+strings.Join(controllers.Names(), ", "))
	fs.DurationVar(&f.loops.NodeMonitorGracePeriod, "node-monitor-grace-period", 40*time.Second, "how long a node may go unheard (Lease and status) before it is marked Ready=Unknown and tainted unreachable")
	fs.DurationVar(&f.loops.NodeStartupGracePeriod, "node-startup-grace-period", 60*time.Second, "the same allowance for a node that has never been Ready")
	fs.DurationVar(&f.loops.NodeMonitorPeriod, "node-monitor-period", 5*time.Second, "how often node health is checked")
	fs.StringVar(&f.loops.ClusterCIDR, "cluster-cidr", "10.42.0.0/16", "the range each node's pod CIDR is cut from")
	fs.IntVar(&f.loops.NodeCIDRMaskSize, "node-cidr-mask-size", 24, "prefix length of each node's pod CIDR")
	fs.IntVar(&f.loops.TerminatedPodGCThreshold, "terminated-pod-gc-threshold", 12500, "how many terminated pods may exist before the oldest are deleted")
	fs.Int64Var(&f.notReadyTol, "default-not-ready-toleration-seconds", 300, "tolerationSeconds of the not-ready:NoExecute toleration admission adds to every pod that has none")
	fs.Int64Var(&f.unreachTol, "default-unreachable-toleration-seconds", 300, "tolerationSeconds of the unreachable:NoExecute toleration admission adds to every pod that has none")
	fs.StringVarP(&f.logLevel, "log-level", "v", "info", "log level: debug, info, warn, error, or a verbosity number (>0 means debug)")
}

// run starts the control plane, calls ready once the API answers, and
// blocks until SIGINT or SIGTERM (or until ready's node stops). A second
// signal kills the process.
func (f *serverFlags) run(ctx context.Context, ready func(context.Context, *server.Server) (done <-chan struct{}, err error)) error {
	ctx, stop, err := setupProcess(ctx, f.logLevel)
	if err != nil {
		return err
	}
	defer stop()
	if f.cpuProfile != "" {
		out, err := os.Create(f.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(out); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); out.Close() }()
	}
	s, err := server.Start(ctx, server.Options{
		DataDir:                             f.dataDir,
		APIPort:                             f.apiPort,
		BindAddress:                         f.bindAddress,
		EtcdServers:                         f.etcdServers,
		Log:                                 os.Stderr,
		WithoutScheduler:                    f.noScheduler,
		Loops:                               controllers.All(),
		Controllers:                         f.controllers,
		ControllerOptions:                   f.loops,
		DefaultNotReadyTolerationSeconds:    f.notReadyTol,
		DefaultUnreachableTolerationSeconds: f.unreachTol,
	})
	if err != nil {
		return err
	}
	nodeDone, err := ready(ctx, s)
	if err != nil {
		return err
	}
	releaseStartupPages()
	select {
	case <-s.Done():
	case <-nodeDone:
		stop()
	}
	err = s.Wait()
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
		slog.Info("stopped")
		return nil
	}
	return err
}

// releaseStartupPages drops the binary's pages that only start-up touched
// (see internal/pageout): now, and again once the first sync of every
// component (informers filling, a node adopting its pods) has passed. A
// failure costs nothing but memory.
func releaseStartupPages() {
	release := func() {
		if _, err := pageout.Executable(); err != nil {
			slog.Debug("could not release start-up pages", "err", err)
		}
	}
	release()
	time.AfterFunc(30*time.Second, release)
}

// setupProcess sets the log level and returns a context that ends on
// SIGINT or SIGTERM; after the first signal a second one kills.
func setupProcess(ctx context.Context, logLevel string) (context.Context, context.CancelFunc, error) {
	level, err := parseLevel(logLevel)
	if err != nil {
		return nil, nil, err
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	// client-go's own lines (leader election, reflectors) in the same
	// format and at the same level; its V(n) lines are below Info.
	klog.SetSlogLogger(slog.Default())
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // restore default handling so a second signal kills
	}()
	return ctx, stop, nil
}

// parseLevel accepts slog level names ("debug", "INFO", "warn+2") and
// klog-style verbosity numbers, where anything above 0 means debug.
func parseLevel(s string) (slog.Level, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n > 0 {
			return slog.LevelDebug, nil
		}
		return slog.LevelInfo, nil
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("bad --log-level %q: want debug, info, warn, error or a number", s)
	}
	return l, nil
}
