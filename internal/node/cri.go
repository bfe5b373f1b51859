package node

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"skiff.dev/internal/images"
	"skiff.dev/internal/runtime/cri"
)

// RuntimeCRI runs containers in containerd, over CRI.
const RuntimeCRI = "cri"

// DefaultRuntime is the runtime a node uses when none is named: containerd
// when skiff can run it (as root, with the containerd binary installed),
// else the process runtime.
func DefaultRuntime() string {
	if os.Geteuid() != 0 {
		return RuntimeProcess
	}
	if _, err := exec.LookPath("containerd"); err != nil {
		return RuntimeProcess
	}
	return RuntimeCRI
}

// containerdNode is what a node on containerd runs beside its agent: the
// registry that serves skiff's own images (the pause image, busybox) on
// loopback, and containerd itself.
type containerdNode struct {
	registry   *images.Registry
	containerd *cri.Containerd
	cniConfDir string
	logFile    *os.File // containerd's output, DATA_DIR/containerd.log
}

// startContainerd serves skiff's images, writes containerd's config and
// runs containerd under the node's data directory.
func startContainerd(ctx context.Context, o Options, log *slog.Logger) (*containerdNode, error) {
	builtin := map[string]v1.Image{}
	pause, err := images.Pause()
	if err != nil {
		return nil, fmt.Errorf("node: the pause image: %w", err)
	}
	builtin[images.PauseRef] = pause
	if bb, err := exec.LookPath("busybox"); err == nil {
		if img, err := images.Busybox(bb); err == nil {
			builtin[images.BusyboxRef] = img
		} else {
			log.Debug("no busybox image", "err", err)
		}
	}
	reg, err := images.Serve(ctx, "127.0.0.1:0", builtin)
	if err != nil {
		return nil, err
	}
	confDir := filepath.Join(o.DataDir, "cni", "net.d")
	out := o.ContainerdLog
	var logFile *os.File
	if out == nil {
		if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
			_ = reg.Close()
			return nil, fmt.Errorf("node: %w", err)
		}
		if logFile, err = os.OpenFile(filepath.Join(o.DataDir, "containerd.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err != nil {
			_ = reg.Close()
			return nil, fmt.Errorf("node: %w", err)
		}
		out = logFile
	}
	hosts := map[string]string{}
	for h, u := range o.Registries {
		hosts[h] = u
	}
	hosts[images.RegistryHost] = "http://" + reg.Addr()
	c, err := cri.Start(ctx, cri.Options{DataDir: o.DataDir, Binary: o.Containerd, SandboxImage: images.PauseRef,
		RegistryHosts: hosts,
		CNIConfDir:    confDir, Log: out})
	if err != nil {
		_ = reg.Close()
		if logFile != nil {
			logFile.Close()
		}
		return nil, err
	}
	return &containerdNode{registry: reg, containerd: c, cniConfDir: confDir, logFile: logFile}, nil
}

// writeNetwork waits for the node's pod CIDR (the control plane assigns
// one when the Node is registered) and writes the CNI configuration for
// it; containerd gives pods their IPs from then on.
func (c *containerdNode) writeNetwork(ctx context.Context, cfg *rest.Config, name string, log *slog.Logger) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		log.Error("pod network: no client", "err", err)
		return
	}
	for ctx.Err() == nil {
		n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err == nil && n.Spec.PodCIDR != "" {
			removed, err := cri.WriteCNIConfig(c.cniConfDir, n.Spec.PodCIDR, "")
			if len(removed) > 0 {
				log.Warn("removed a bridge left by an earlier cluster", "bridge", cri.CNIBridge, "addresses", removed)
			}
			if err != nil {
				log.Error("pod network: writing the CNI configuration", "err", err)
				return
			}
			log.Info("pod network ready", "podCIDR", n.Spec.PodCIDR)
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stopIfRunning stops containerd (its shims keep the containers running,
// as with any containerd restart) and the image registry; a nil node has
// nothing to stop.
func (c *containerdNode) stopIfRunning() {
	if c == nil {
		return
	}
	_ = c.containerd.Stop()
	_ = c.registry.Close()
	if c.logFile != nil {
		c.logFile.Close()
	}
}
