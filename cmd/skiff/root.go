package main

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// adminKubeconfigName is the admin kubeconfig's file name in the data dir.
const adminKubeconfigName = "admin.kubeconfig"

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "skiff",
		Short:         "skiff runs a Kubernetes cluster from one binary",
		SilenceUsage:  true,
		SilenceErrors: true, // main prints them
	}
	root.AddCommand(
		newUpCommand(),
		newServerCommand(),
		newAgentCommand(),
		newSimCommand(),
		newKubectlCommand(),
		newKubeconfigCommand(),
		newVersionCommand(),
	)
	return root
}

// defaultDataDir is $SKIFF_DATA_DIR if set, else /var/lib/skiff for root
// and $HOME/.skiff for everyone else.
func defaultDataDir() string {
	if d := os.Getenv("SKIFF_DATA_DIR"); d != "" {
		return d
	}
	if os.Geteuid() == 0 {
		return "/var/lib/skiff"
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".skiff")
	}
	return ".skiff"
}

func adminKubeconfig(dataDir string) string {
	return filepath.Join(dataDir, adminKubeconfigName)
}
