package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// CreateOptions shape a create load: Clients goroutines, each with its own
// clientset, create small ConfigMaps back to back until Count are done or
// Duration has passed, whichever comes first (one of them is required).
type CreateOptions struct {
	// Clients is the number of concurrent clients; 0 means 32.
	Clients int
	// Count is the number of creates in all; 0 means until Duration.
	Count int
	// Duration bounds the load; 0 means until Count.
	Duration time.Duration
	// Namespace receives the ConfigMaps and is created if missing; empty
	// means "bench".
	Namespace string
	// ContentType is JSON (the default) or Protobuf, for requests and
	// answers alike.
	ContentType string
	// ConnPerClient gives every client its own connection instead of the
	// one HTTP/2 connection client-go shares between equal configs.
	ConnPerClient bool
}

// CreateResult is what a create load measured.
type CreateResult struct {
	// Ops counts the creates that succeeded, Errors those that failed.
	Ops, Errors int
	// Err is the first failure, if any.
	Err error
	// Elapsed is the wall time from the first request to the last answer.
	Elapsed time.Duration
	// Latency holds one sample per successful create, as the client saw it.
	Latency Latencies
}

// Rate is the successful creates per second.
func (r *CreateResult) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Ops) / r.Elapsed.Seconds()
}

// String is a one-line summary.
func (r *CreateResult) String() string {
	return fmt.Sprintf("%d creates in %s: %.0f/s, %s, %d errors",
		r.Ops, r.Elapsed.Round(time.Millisecond), r.Rate(), r.Latency.String(), r.Errors)
}

// Creates runs a create load against the cluster cfg reaches. Each
// ConfigMap holds one short key; names are unique to the call.
func Creates(ctx context.Context, cfg *rest.Config, o CreateOptions) (*CreateResult, error) {
	if o.Count <= 0 && o.Duration <= 0 {
		return nil, errors.New("bench: CreateOptions needs a Count or a Duration")
	}
	if o.Clients <= 0 {
		o.Clients = 32
	}
	if o.Namespace == "" {
		o.Namespace = "bench"
	}
	clients := make([]*kubernetes.Clientset, o.Clients)
	for i := range clients {
		cs, err := newClientset(cfg, clientOptions{contentType: o.ContentType, ownConn: o.ConnPerClient})
		if err != nil {
			return nil, err
		}
		clients[i] = cs
	}
	if err := ensureNamespace(ctx, clients[0], o.Namespace); err != nil {
		return nil, err
	}
	if o.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Duration)
		defer cancel()
	}
	prefix := "cm-" + utilrand.String(6) + "-"
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		results = make([]CreateResult, o.Clients)
	)
	start := time.Now()
	for i, cs := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := &results[i]
			cms := cs.CoreV1().ConfigMaps(o.Namespace)
			for ctx.Err() == nil {
				n := next.Add(1)
				if o.Count > 0 && n > int64(o.Count) {
					return
				}
				cm := &corev1.ConfigMap{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s%d", prefix, n)},
					Data:       map[string]string{"key": "value"},
				}
				t0 := time.Now()
				_, err := cms.Create(ctx, cm, metav1.CreateOptions{})
				d := time.Since(t0)
				switch {
				case err == nil:
					res.Ops++
					res.Latency.Add(d)
				case ctx.Err() != nil: // cut off by the deadline: not a failure
					return
				default:
					res.Errors++
					if res.Err == nil {
						res.Err = err
					}
				}
			}
		}()
	}
	wg.Wait()
	total := &CreateResult{Elapsed: time.Since(start)}
	for i := range results {
		r := &results[i]
		total.Ops += r.Ops
		total.Errors += r.Errors
		if total.Err == nil {
			total.Err = r.Err
		}
		total.Latency.Merge(&r.Latency)
	}
	return total, nil
}
