package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	reexec()
	if err := newRootCommand().ExecuteContext(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "skiff:", err)
		os.Exit(1)
	}
}
