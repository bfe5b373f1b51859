// Package main is pause: the process that holds a pod sandbox's namespaces open.
//
// It does what the upstream pause container does: it sleeps until a signal
// arrives, exits 0 on SIGINT or SIGTERM, and reaps every exited child on
// SIGCHLD, because it is PID 1 of the pod when the pod shares one process
// namespace and orphans are re-parented to it. It is built static
// (CGO_ENABLED=0) by scripts/build-pause.sh and embedded, gzip-compressed,
// in skiff.dev/internal/images, which wraps it into skiff's pause image.
//
// It imports only os, os/signal and syscall to stay small.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

// version is the upstream pause release whose behaviour this copies.
const version = "3.10"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		os.Stdout.WriteString("pause.go version " + version + "\n")
		return
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	// Written after Notify, so a reader of stderr knows signals are handled.
	if os.Getpid() != 1 {
		os.Stderr.WriteString("pause: warning: not running as PID 1\n")
	}
	reap() // children that ended before Notify sent no signal we saw
	for sig := range sigs {
		switch sig {
		case syscall.SIGINT, syscall.SIGTERM:
			os.Stderr.WriteString("pause: shutting down, got signal: " + sig.String() + "\n")
			os.Exit(0)
		case syscall.SIGCHLD:
			reap()
		}
	}
}

// reap collects every child that has exited, without blocking.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
	}
}
