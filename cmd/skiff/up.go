package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"skiff.dev/internal/server"
)

func newUpCommand() *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run a whole cluster in this process (control plane and node)",
		Long: `Run a whole cluster in this process and print how to reach it.

For now up runs the control plane only, like server; the node agent
will join it in the same process.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.run(cmd.Context(), func(s *server.Server) {
				printUp(cmd.OutOrStdout(), s.URL(), s.Kubeconfig(), f.dataDir)
			})
		},
	}
	f.register(cmd.Flags())
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
