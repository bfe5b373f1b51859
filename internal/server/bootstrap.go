package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"skiff.dev/internal/controllers/manager"
	"skiff.dev/internal/scheduler"
)

// systemNamespaces are created on every start when missing.
var systemNamespaces = []string{"default", "kube-system", "kube-public", "kube-node-lease"}

// bootstrap creates what every cluster has, through the API like any
// other client.
func bootstrap(ctx context.Context, cfg *rest.Config) error {
	cs, err := kubernetes.NewForConfig(rest.CopyConfig(cfg))
	if err != nil {
		return fmt.Errorf("server: %w", err)
	}
	for _, name := range systemNamespaces {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("server: create namespace %s: %w", name, err)
		}
	}
	return nil
}

// clientConfig is the control plane's own client configuration: the admin
// credentials, over loopback.
func clientConfig(kubeconfigPath, agent string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfigPath)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	cfg.UserAgent = agent
	cfg.QPS, cfg.Burst = 200, 400
	return cfg, nil
}

// startScheduler runs the scheduler (kube-scheduler's role) with the
// control plane's credentials.
func startScheduler(ctx context.Context, kubeconfigPath string, log *slog.Logger) error {
	cfg, err := clientConfig(kubeconfigPath, "skiff-scheduler")
	if err != nil {
		return err
	}
	sched, err := scheduler.New(scheduler.Options{Config: cfg, Log: log.With("component", "scheduler")})
	if err != nil {
		return err
	}
	go func() {
		if err := sched.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("scheduler stopped", "err", err)
		}
	}()
	return nil
}

// startControllers runs the controller manager (kube-controller-manager's
// role) with the control plane's credentials, under leader election.
// The returned channel is closed once the manager has stopped (and
// released its Lease).
func startControllers(ctx context.Context, o Options, log *slog.Logger) (<-chan struct{}, error) {
	cfg, err := clientConfig(filepath.Join(o.DataDir, "admin.kubeconfig"), "skiff-controller-manager")
	if err != nil {
		return nil, err
	}
	mo := manager.Options{Loops: o.Loops, Config: cfg, Identity: managerIdentity(o.DataDir), Enabled: o.Controllers,
		Log: log.With("component", "controller-manager"), Clock: o.Clock, Controllers: o.ControllerOptions}
	if err := mo.Validate(); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := manager.Run(ctx, mo); err != nil && ctx.Err() == nil {
			log.Error("controller manager stopped", "err", err)
		}
	}()
	return done, nil
}

// managerIdentity names this server in the controller manager's Lease:
// the host and its data directory, the same after a restart.
func managerIdentity(dataDir string) string {
	host, _ := os.Hostname()
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		abs = dataDir
	}
	sum := sha256.Sum256([]byte(abs))
	return host + "_" + hex.EncodeToString(sum[:4])
}
