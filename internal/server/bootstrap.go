package server

import (
	"context"
	"fmt"
	"log/slog"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

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
