package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"skiff.dev/internal/version"
)

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print skiff's version and the Kubernetes version it implements",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			info := version.Info()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "skiff %s (commit %s, built %s, %s %s)\n",
				version.Skiff, info.GitCommit, info.BuildDate, info.GoVersion, info.Platform)
			fmt.Fprintf(out, "Kubernetes %s (API served as %s)\n", version.Kubernetes, info.GitVersion)
		},
	}
}
