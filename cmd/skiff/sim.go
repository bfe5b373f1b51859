package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"skiff.dev/internal/node"
)

func newSimCommand() *cobra.Command {
	var f simFlags
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run many hollow nodes in one process, for scale tests",
		Long: `Run --nodes hollow nodes in this process. Each joins the cluster like
an agent, with its own Node object and Lease, and runs its pods on the sim
runtime: containers start at once and report Running, and nothing is
executed. Schedulers, controllers and the API server see a real cluster of
that size.`,
		Example: `  skiff sim --nodes 100 --server https://127.0.0.1:6443 --token-file /var/lib/skiff/token`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd.Context())
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&f.nodes, "nodes", 10, "number of hollow nodes")
	fs.StringVar(&f.prefix, "node-prefix", "hollow-", "node names are this prefix and a number")
	fs.StringVar(&f.server, "server", "https://127.0.0.1:6443", "URL of the API server to join")
	fs.StringVar(&f.token, "token", os.Getenv("SKIFF_TOKEN"), "join token; default the one in --data-dir's token file")
	fs.StringVar(&f.tokenFile, "token-file", "", "file holding the join token")
	fs.StringVar(&f.dataDir, "data-dir", defaultDataDir(), "the server's data directory (for its token); hollow nodes keep their state in DATA_DIR/sim")
	fs.StringVar(&f.cpu, "node-cpu", "4", "cpu capacity of each node")
	fs.StringVar(&f.memory, "node-memory", "16Gi", "memory capacity of each node")
	fs.IntVar(&f.maxPods, "max-pods", 110, "pod capacity of each node")
	fs.StringVarP(&f.logLevel, "log-level", "v", "info", "log level: debug, info, warn, error, or a verbosity number (>0 means debug)")
	return cmd
}

type simFlags struct {
	nodes                    int
	prefix                   string
	server, token, tokenFile string
	dataDir                  string
	cpu, memory              string
	maxPods                  int
	logLevel                 string
}

func (f *simFlags) run(ctx context.Context) error {
	if f.nodes < 1 {
		return fmt.Errorf("sim: --nodes must be at least 1, not %d", f.nodes)
	}
	capacity, err := f.capacity()
	if err != nil {
		return err
	}
	token, err := f.readToken()
	if err != nil {
		return err
	}
	ctx, stop, err := setupProcess(ctx, f.logLevel)
	if err != nil {
		return err
	}
	defer stop()
	nodes := make([]*node.Node, f.nodes)
	errs := make([]error, f.nodes)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16) // joins in flight
	for i := range nodes {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			name := fmt.Sprintf("%s%d", f.prefix, i)
			nodes[i], errs[i] = node.Start(ctx, node.Options{Server: f.server, Token: token, NodeName: name,
				DataDir: filepath.Join(f.dataDir, "sim", name), Runtime: node.RuntimeSim, KubeletPort: -1,
				Capacity: capacity, Log: slog.Default()})
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		stop()
		return err
	}
	slog.Info("hollow nodes started", "nodes", f.nodes, "server", f.server)
	releaseStartupPages()
	for _, n := range nodes {
		if err := n.Wait(); err != nil && ctx.Err() == nil {
			return err
		}
	}
	return nil
}

func (f *simFlags) capacity() (corev1.ResourceList, error) {
	cpu, err := resource.ParseQuantity(f.cpu)
	if err != nil {
		return nil, fmt.Errorf("sim: bad --node-cpu %q: %w", f.cpu, err)
	}
	mem, err := resource.ParseQuantity(f.memory)
	if err != nil {
		return nil, fmt.Errorf("sim: bad --node-memory %q: %w", f.memory, err)
	}
	return corev1.ResourceList{
		corev1.ResourceCPU:              cpu,
		corev1.ResourceMemory:           mem,
		corev1.ResourcePods:             *resource.NewQuantity(int64(f.maxPods), resource.DecimalSI),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}, nil
}

func (f *simFlags) readToken() (string, error) {
	file := f.tokenFile
	if file == "" && f.token == "" {
		file = filepath.Join(f.dataDir, "token")
	}
	token, err := readToken(f.token, file)
	if err != nil {
		return "", fmt.Errorf("sim: %w", err)
	}
	return token, nil
}
