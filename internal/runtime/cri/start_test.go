package cri

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeBinary writes a shell script to stand in for containerd.
func fakeBinary(t *testing.T, script string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fake-containerd")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestStartReportsEarlyExit(t *testing.T) {
	bin := fakeBinary(t, `echo "bad config: $*" >&2; exit 3`)
	var log strings.Builder
	_, err := Start(context.Background(), Options{DataDir: t.TempDir(), Binary: bin, Log: &log})
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "before answering CRI") {
		t.Errorf("Start with a binary that exits: %v", err)
	}
	if !strings.Contains(log.String(), "bad config: --config ") {
		t.Errorf("containerd's output did not reach Log: %q", log.String())
	}
}

func TestStartGivesUpAndStops(t *testing.T) {
	// A "containerd" that never opens its socket and notes its SIGTERM.
	dir := t.TempDir()
	marker := filepath.Join(dir, "terminated")
	bin := fakeBinary(t, `trap 'touch `+marker+`; exit 0' TERM; while :; do sleep 0.05; done`)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := Start(ctx, Options{DataDir: dir, Binary: bin})
	if err == nil || !strings.Contains(err.Error(), "did not answer CRI") {
		t.Fatalf("Start with a silent binary: %v", err)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("Start took %v despite a 500ms context", took)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the silent binary did not get SIGTERM: %v", err)
	}
}

func TestStopKillsAfterTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the 5s stop timeout")
	}
	dir := t.TempDir()
	bin := fakeBinary(t, `trap '' TERM; while :; do sleep 0.05; done`)
	opts, err := Options{DataDir: dir, Binary: bin}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	// Start the process the way Start does, without waiting for a socket.
	c := startProcess(t, opts)
	if err := c.Stop(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Stop of a process ignoring SIGTERM: %v", err)
	}
	if c.Err() != nil {
		t.Errorf("Err after Stop = %v, want nil", c.Err())
	}
}

func TestErrReportsUnexpectedExit(t *testing.T) {
	opts, err := Options{DataDir: t.TempDir(), Binary: fakeBinary(t, `while :; do sleep 0.05; done`)}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	c := startProcess(t, opts)
	if err := c.Err(); err != nil {
		t.Fatalf("Err while running = %v", err)
	}
	c.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after the process died")
	}
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Err after an unexpected exit = %v", err)
	}
	if err := c.Wait(); err == nil {
		t.Error("Wait after an unexpected exit = nil")
	}
}

// startProcess starts opts.Binary as Start does but returns at once.
func startProcess(t *testing.T, opts Options) *Containerd {
	t.Helper()
	c, err := spawn(opts, newLayout(opts.DataDir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		<-c.Done()
	})
	time.Sleep(100 * time.Millisecond) // let the shell install its trap
	return c
}
