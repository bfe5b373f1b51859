package main

import (
	"context"
	"fmt"
	"os"
	// CronJobs' spec.timeZone must work on hosts without zoneinfo.
	_ "time/tzdata"
)

func main() {
	reexec()
	if err := newRootCommand().ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "skiff:", err)
		os.Exit(1)
	}
}
