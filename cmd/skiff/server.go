package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"skiff.dev/internal/server"
)

func newServerCommand() *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the control plane: API server and cluster store",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd.Context(), func(s *server.Server) {
				slog.Info("API server ready", "url", s.URL(), "kubeconfig", s.Kubeconfig())
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
}

func (f *serverFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.dataDir, "data-dir", defaultDataDir(), "directory for the cluster store, certificates and admin kubeconfig; $SKIFF_DATA_DIR sets the default")
	fs.IntVar(&f.apiPort, "api-port", 6443, "HTTPS port of the API server; 0 picks a free one")
	fs.StringVar(&f.bindAddress, "bind-address", "", "address the API server listens on; empty means all")
	fs.StringSliceVar(&f.etcdServers, "etcd-servers", nil, "comma-separated client URLs of an external etcd to use instead of the embedded one")
	fs.StringVarP(&f.logLevel, "log-level", "v", "info", "log level: debug, info, warn, error, or a verbosity number (>0 means debug)")
}

// run starts the control plane, calls ready once the API answers, and
// blocks until SIGINT or SIGTERM. A second signal kills the process.
func (f *serverFlags) run(ctx context.Context, ready func(*server.Server)) error {
	level, err := parseLevel(f.logLevel)
	if err != nil {
		return err
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // restore default handling so a second signal kills
	}()

	s, err := server.Start(ctx, server.Options{
		DataDir:     f.dataDir,
		APIPort:     f.apiPort,
		BindAddress: f.bindAddress,
		EtcdServers: f.etcdServers,
		Log:         os.Stderr,
	})
	if err != nil {
		return err
	}
	ready(s)
	err = s.Wait()
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
		slog.Info("stopped")
		return nil
	}
	return err
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
