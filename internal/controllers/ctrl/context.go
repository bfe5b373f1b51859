// Package ctrl is the kit every control loop is built from: the shared
// Context (clients, shared informers, event recorders, clock, options),
// workqueue workers, expectations, claiming of pods and other owned objects
// by selector and ownerReferences, and pods made from templates.
package ctrl

import (
	"context"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"
)

// Controller is one control loop. Run blocks until ctx ends; the informers
// it asked for in its constructor are started by the caller.
type Controller interface {
	Run(ctx context.Context)
}

// Options tune the control loops; the zero value of a field means
// upstream's default.
type Options struct {
	// NodeMonitorGracePeriod is how long a node may go without renewing
	// its Lease or status before it is marked Ready=Unknown (40 s).
	NodeMonitorGracePeriod time.Duration
	// NodeStartupGracePeriod is the same allowance for a node that has
	// never reported Ready (60 s).
	NodeStartupGracePeriod time.Duration
	// NodeMonitorPeriod is how often node health is checked (5 s).
	NodeMonitorPeriod time.Duration
	// TerminatedPodGCThreshold is how many terminated pods may exist
	// before the oldest are deleted (12,500).
	TerminatedPodGCThreshold int
	// Workers is how many keys each loop syncs at once (5).
	Workers int
	// ClusterCIDR is the range node pod CIDRs are cut from
	// (10.42.0.0/16); NodeCIDRMaskSize the size of each (24).
	ClusterCIDR      string
	NodeCIDRMaskSize int
}

// WithDefaults fills in upstream's defaults.
func (o Options) WithDefaults() Options {
	if o.NodeMonitorGracePeriod <= 0 {
		o.NodeMonitorGracePeriod = 40 * time.Second
	}
	if o.NodeStartupGracePeriod <= 0 {
		o.NodeStartupGracePeriod = 60 * time.Second
	}
	if o.NodeMonitorPeriod <= 0 {
		o.NodeMonitorPeriod = 5 * time.Second
	}
	if o.TerminatedPodGCThreshold <= 0 {
		o.TerminatedPodGCThreshold = 12500
	}
	if o.Workers <= 0 {
		o.Workers = 5
	}
	if o.ClusterCIDR == "" {
		o.ClusterCIDR = "10.42.0.0/16"
	}
	if o.NodeCIDRMaskSize <= 0 {
		o.NodeCIDRMaskSize = 24
	}
	return o
}

// Context is what a controller's constructor gets: one set of clients and
// shared informers for all loops, so a pod is watched once however many
// loops look at pods.
type Context struct {
	Config    *rest.Config
	Client    kubernetes.Interface
	Metadata  metadata.Interface
	Informers informers.SharedInformerFactory
	Log       *slog.Logger
	Clock     clock.WithTicker
	Options   Options

	mu          sync.Mutex
	broadcaster record.EventBroadcaster
}

// NewContext builds a Context from a client configuration. Clock nil means
// the real clock.
func NewContext(cfg *rest.Config, log *slog.Logger, clk clock.WithTicker, opts Options) (*Context, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	mc, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &Context{Config: cfg, Client: cs, Metadata: mc, Log: log, Clock: clk, Options: opts.WithDefaults(),
		Informers: informers.NewSharedInformerFactory(cs, 0)}, nil
}

// Recorder returns an event recorder that reports as component (for
// example "deployment-controller", as upstream's loops do).
func (c *Context) Recorder(component string) record.EventRecorder {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broadcaster == nil {
		c.broadcaster = record.NewBroadcaster(record.WithContext(context.Background()))
		c.broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: c.Client.CoreV1().Events("")})
	}
	return c.broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: component})
}

// Start starts the informers the controllers asked for.
func (c *Context) Start(ctx context.Context) {
	c.Informers.Start(ctx.Done())
}

// Shutdown stops the event broadcaster once the loops have stopped.
func (c *Context) Shutdown() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broadcaster != nil {
		c.broadcaster.Shutdown()
		c.broadcaster = nil
	}
}
