package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/component-base/cli"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/plugin"
	cmdutil "k8s.io/kubectl/pkg/cmd/util"
)

func newKubectlCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "kubectl [flags] [command]",
		Short: "Run the embedded kubectl against the local cluster",
		Long: `Run the upstream kubectl, built into skiff. Arguments pass through unchanged.

Unless KUBECONFIG or --kubeconfig says otherwise, it uses the admin kubeconfig
in the data dir ($SKIFF_DATA_DIR, else /var/lib/skiff for root, ~/.skiff for others).`,
		DisableFlagParsing: true,
		RunE: func(_ *cobra.Command, args []string) error {
			if os.Getenv("KUBECONFIG") == "" && !hasKubeconfigFlag(args) {
				path := adminKubeconfig(defaultDataDir())
				if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
					fmt.Fprintf(os.Stderr, "skiff: no admin kubeconfig at %s: start a cluster with `skiff up`\n", path)
				}
				os.Setenv("KUBECONFIG", path)
			}
			runKubectl(args)
			return nil
		},
	}
}

// runKubectl runs kubectl with args as its command line and exits the
// process on failure with kubectl's own message and code.
func runKubectl(args []string) {
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	cmd := kubectlcmd.NewDefaultKubectlCommandWithArgs(kubectlcmd.KubectlOptions{
		PluginHandler: kubectlcmd.NewDefaultPluginHandler(plugin.ValidPluginFilenamePrefixes),
		Arguments:     append([]string{"kubectl"}, args...),
		ConfigFlags: genericclioptions.NewConfigFlags(true).
			WithDeprecatedPasswordFlag().
			WithDiscoveryBurst(300).
			WithDiscoveryQPS(50).
			WithWarningPrinter(streams),
		IOStreams: streams,
	})
	cmd.SetArgs(args)
	if err := cli.RunNoErrOutput(cmd); err != nil {
		cmdutil.CheckErr(err)
	}
}

// hasKubeconfigFlag reports whether args set --kubeconfig before any "--".
func hasKubeconfigFlag(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--kubeconfig" || strings.HasPrefix(a, "--kubeconfig=") {
			return true
		}
	}
	return false
}
