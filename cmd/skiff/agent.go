package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"skiff.dev/internal/node"
)

func newAgentCommand() *cobra.Command {
	var f agentFlags
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run a node: join a cluster and run its pods",
		Long: `Run a node agent (the kubelet's role) that joins the cluster at --server
with the join token that server keeps in DATA_DIR/token, registers a Node
and runs the pods scheduled to it.`,
		Example: `  skiff agent --server https://10.0.0.5:6443 --token "$(cat /var/lib/skiff/token)"`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd.Context())
		},
	}
	f.register(cmd.Flags())
	return cmd
}

// agentFlags are the flags of `skiff agent`.
type agentFlags struct {
	server, token, tokenFile string
	dataDir                  string
	nodeFlags
	logLevel string
}

// nodeFlags are the node flags `skiff agent` and `skiff up` share.
type nodeFlags struct {
	nodeName    string
	kubeletPort int
	runtime     string
	maxPods     int
	registries  string
}

func (f *nodeFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.nodeName, "node-name", "", "name of the node; default the host name")
	fs.IntVar(&f.kubeletPort, "kubelet-port", node.DefaultKubeletPort, "HTTPS port of the node's API (logs, exec, port-forward); 0 picks a free one")
	fs.IntVar(&f.maxPods, "max-pods", 110, "how many pods the node takes")
	fs.StringVar(&f.registries, "registries", "", "YAML file of registry mirrors, as k3s's registries.yaml (mirrors: HOST: endpoint: [URL]); an http:// endpoint is a plain-HTTP registry")
	fs.StringVar(&f.runtime, "runtime", "", "container runtime: cri (containerd, which skiff runs), process (containers run as host processes) or sim (hollow containers); default cri as root with containerd installed, else process")
}

func (f *agentFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.server, "server", "", "URL of the API server to join, e.g. https://10.0.0.5:6443")
	fs.StringVar(&f.token, "token", os.Getenv("SKIFF_TOKEN"), "join token from the server's DATA_DIR/token; $SKIFF_TOKEN sets the default")
	fs.StringVar(&f.tokenFile, "token-file", "", "file holding the join token")
	fs.StringVar(&f.dataDir, "data-dir", filepath.Join(defaultDataDir(), "agent"), "directory for the node's credentials, runtime state, pods and logs")
	f.nodeFlags.register(fs)
	fs.StringVarP(&f.logLevel, "log-level", "v", "info", "log level: debug, info, warn, error, or a verbosity number (>0 means debug)")
}

func (f *agentFlags) run(ctx context.Context) error {
	if f.server == "" {
		return errors.New("agent: --server is required: the URL of the API server to join")
	}
	token, err := readToken(f.token, f.tokenFile)
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	ctx, stop, err := setupProcess(ctx, f.logLevel)
	if err != nil {
		return err
	}
	defer stop()
	n, err := f.start(ctx, f.server, token, f.dataDir)
	if err != nil {
		return err
	}
	releaseStartupPages()
	return n.Wait()
}

// readToken is the join token from tokenFile if given, else token (the
// --token flag or $SKIFF_TOKEN).
func readToken(token, tokenFile string) (string, error) {
	if tokenFile != "" {
		data, err := os.ReadFile(tokenFile)
		if err != nil {
			return "", err
		}
		token = string(data)
	}
	if token = strings.TrimSpace(token); token == "" {
		return "", errors.New("a join token is required (--token, --token-file or $SKIFF_TOKEN); the server keeps it in DATA_DIR/token")
	}
	return token, nil
}

// start starts the node and says which runtime it uses.
func (f *nodeFlags) start(ctx context.Context, server, token, dataDir string) (*node.Node, error) {
	name := f.nodeName
	if name == "" {
		name = defaultNodeName()
	}
	var registries map[string]string
	if f.registries != "" {
		var err error
		if registries, err = node.ReadRegistries(f.registries); err != nil {
			return nil, err
		}
	}
	n, err := node.Start(ctx, node.Options{Server: server, Token: token, NodeName: name, DataDir: dataDir,
		Runtime: f.runtime, KubeletPort: f.kubeletPort, MaxPods: f.maxPods, Registries: registries, Log: slog.Default()})
	if err != nil {
		return nil, err
	}
	slog.Info("node started", "node", n.Name(), "runtime", n.Runtime())
	return n, nil
}

// defaultNodeName is the host name, lower-cased as node names must be.
func defaultNodeName() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "skiff"
	}
	return strings.ToLower(h)
}
