package bench

import (
	"context"
	"fmt"
	"net"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Content types a load can speak. JSON is what a client-go clientset sends
// unless told otherwise; Kubernetes' own components ask for protobuf.
const (
	JSON     = "application/json"
	Protobuf = "application/vnd.kubernetes.protobuf"
)

// clientOptions shape the clientsets a load uses.
type clientOptions struct {
	contentType string // "" means JSON
	// ownConn gives the clientset its own TCP and TLS connection. Without
	// it, clientsets made from equal configs share client-go's cached
	// transport: one HTTP/2 connection for all of them.
	ownConn bool
	// watch leaves the request timeout off: http.Client's timeout would
	// cut long watches.
	watch bool
}

// newClientset makes one clientset with no client-side rate limit.
func newClientset(base *rest.Config, o clientOptions) (*kubernetes.Clientset, error) {
	cfg := rest.CopyConfig(base)
	cfg.QPS, cfg.Burst = -1, 0 // a negative QPS turns the rate limiter off
	cfg.RateLimiter = nil
	cfg.Timeout = 30 * time.Second
	if o.watch {
		cfg.Timeout = 0
	}
	switch o.contentType {
	case "", JSON:
		cfg.ContentType, cfg.AcceptContentTypes = JSON, JSON
	case Protobuf:
		cfg.ContentType, cfg.AcceptContentTypes = Protobuf, Protobuf+","+JSON
	default:
		return nil, fmt.Errorf("bench: unknown content type %q", o.contentType)
	}
	if o.ownConn {
		d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
		cfg.Dial = d.DialContext // a distinct dialer defeats the transport cache
	}
	return kubernetes.NewForConfig(cfg)
}

// ensureNamespace creates a namespace unless it exists.
func ensureNamespace(ctx context.Context, cs kubernetes.Interface, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	_, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("bench: namespace %s: %w", name, err)
	}
	return nil
}
