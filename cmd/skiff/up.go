package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"skiff.dev/internal/node"
	"skiff.dev/internal/server"
)

func newUpCommand() *cobra.Command {
	var f serverFlags
	var nf nodeFlags
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run a whole cluster in this process (control plane and node)",
		Long: `Run a whole cluster in this process and print how to reach it: the
control plane (API server, etcd, scheduler, controllers) and one node
whose agent joins it with the join token, as a separate agent would.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd.Context(), func(ctx context.Context, s *server.Server) (<-chan struct{}, error) {
				printUp(cmd.OutOrStdout(), s.URL(), s.Kubeconfig(), f.dataDir)
				n, err := nf.start(ctx, s.URL(), s.Token(), filepath.Join(f.dataDir, "agent"))
				if err != nil {
					return nil, err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "node %s joined, runtime: %s\n", n.Name(), runtimeNote(n.Runtime()))
				return n.Done(), nil
			})
		},
	}
	f.register(cmd.Flags())
	nf.register(cmd.Flags())
	return cmd
}

// printUp tells the user, on stdout, where the cluster is and how to use it.
func printUp(w io.Writer, url, kubeconfig, dataDir string) {
	skiffKubectl := "skiff kubectl get ns"
	if dataDir != defaultDataDir() {
		skiffKubectl = "SKIFF_DATA_DIR=" + dataDir + " " + skiffKubectl
	}
	fmt.Fprintf(w, "skiff is up: API at %s\n", url)
	fmt.Fprintf(w, "kubeconfig: %s\n", kubeconfig)
	fmt.Fprintf(w, "try: kubectl --kubeconfig %s get namespaces\n", kubeconfig)
	fmt.Fprintf(w, " or: %s\n", skiffKubectl)
}

// runtimeNote says what a runtime name means for the user's pods.
func runtimeNote(rt string) string {
	switch rt {
	case node.RuntimeProcess:
		return rt + " (containers run as host processes; images are not pulled, so every container needs a command)"
	case node.RuntimeSim:
		return rt + " (hollow containers: nothing runs)"
	}
	return rt
}
