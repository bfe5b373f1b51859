package cri

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestConnectMissingSocket(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sock := filepath.Join(t.TempDir(), "none.sock")
	if _, _, err := Connect(ctx, sock); err == nil || !strings.Contains(err.Error(), "cri: ") {
		t.Errorf("Connect to a missing socket: %v", err)
	}
	if _, _, err := Connect(ctx, "tcp://127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), "only unix sockets") {
		t.Errorf("Connect to a TCP endpoint: %v", err)
	}
}

// TestContainerdRestart connects to a running containerd as a second
// client would, refuses a second containerd on the same data directory,
// notices containerd dying, and starts again over the stale socket.
func TestContainerdRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, l := startTestContainerd(t, ctx)

	for _, endpoint := range []string{c.Endpoint(), l.socket} {
		rt, img, err := Connect(ctx, endpoint)
		if err != nil {
			t.Fatalf("Connect(%s): %v", endpoint, err)
		}
		v, err := rt.Version(ctx, criAPIVersion)
		if err != nil || v.RuntimeName != "containerd" || v.RuntimeApiVersion != "v1" {
			t.Errorf("Version through Connect(%s) = %v, %v", endpoint, v, err)
		}
		if img == nil {
			t.Errorf("Connect(%s) returned no image service", endpoint)
		}
	}

	opts := c.opts
	if _, err := Start(ctx, opts); err == nil || !strings.Contains(err.Error(), "already serves") {
		t.Errorf("second Start on the same data directory: %v", err)
	}
	if err := c.Err(); err != nil {
		t.Fatalf("the first containerd suffered from the second Start: %v", err)
	}

	c.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done not closed after containerd was killed")
	}
	if err := c.Err(); err == nil {
		t.Error("Err = nil after containerd was killed")
	}

	began := time.Now()
	c2, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start over a killed containerd's state: %v", err)
	}
	defer c2.Stop()
	t.Logf("restart answered CRI after %v", time.Since(began).Round(time.Millisecond))
	if _, err := c2.Runtime().ListPodSandbox(ctx, nil); err != nil {
		t.Errorf("ListPodSandbox after restart: %v", err)
	}
	if err := c2.Stop(); err != nil {
		t.Errorf("Stop: %v", err)
	}
}
