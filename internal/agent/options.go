package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"

	"skiff.dev/internal/runtime"
)

// Options configure an Agent. Config, NodeName, DataDir and Runtime are
// required; every other field has a default. The durations are knobs for
// tests and simulations; zero means the kubelet's default.
type Options struct {
	// Config reaches the API server with the node's credentials.
	Config *rest.Config
	// NodeName is the Node the agent registers and runs pods for.
	NodeName string
	// DataDir holds pod directories, volumes, logs and static manifests.
	DataDir string
	// Runtime runs sandboxes and containers. Each Agent needs its own:
	// the agent stops containers it finds that belong to no pod of its
	// node.
	Runtime runtime.Runtime
	// Images pulls images; nil for runtimes without images (process, sim).
	Images runtime.Images
	// Addresses are the node's addresses; by default a non-loopback host
	// IP (else 127.0.0.1) as InternalIP, and NodeName as Hostname.
	Addresses []corev1.NodeAddress
	// KubeletPort is the port of the agent's HTTPS API, reported in the
	// Node's daemonEndpoints.
	KubeletPort int32
	// Capacity overrides what the node reports (hollow nodes); by default
	// it is read from the host. When set, the host's memory, disk and PID
	// readings are not taken and the node reports no pressure.
	Capacity corev1.ResourceList
	// MaxPods is how many pods the node takes (its pods capacity) when
	// Capacity is not given; default 110, as the kubelet's --max-pods.
	MaxPods int
	// StaticPodDir holds static pod manifests; default DataDir/manifests.
	StaticPodDir string
	// Log receives the agent's logs; default slog.Default().
	Log *slog.Logger

	// LeaseDuration is the node Lease's leaseDurationSeconds (40 s).
	LeaseDuration time.Duration
	// LeaseRenewInterval is how often the Lease is renewed (10 s).
	LeaseRenewInterval time.Duration
	// NodeStatusUpdateFrequency is how often node status is computed and
	// written when it changed (10 s).
	NodeStatusUpdateFrequency time.Duration
	// NodeStatusReportFrequency is how often node status is written even
	// when nothing changed (5 min).
	NodeStatusReportFrequency time.Duration
	// BackOffBase and BackOffMax bound the crash-loop back-off (10 s, 5 min).
	BackOffBase, BackOffMax time.Duration
	// RelistPeriod is how often the runtime is listed to notice container
	// changes (1 s).
	RelistPeriod time.Duration
	// SyncPeriod is how often every pod is synced even without changes
	// (1 min); it refreshes configMap and secret volumes.
	SyncPeriod time.Duration
	// StaticPodPollPeriod is how often StaticPodDir is read (5 s).
	StaticPodPollPeriod time.Duration
}

// Defaults, as the kubelet's.
const (
	defaultLeaseDuration      = 40 * time.Second
	defaultStatusUpdate       = 10 * time.Second
	defaultStatusReport       = 5 * time.Minute
	defaultBackOffBase        = 10 * time.Second
	defaultBackOffMax         = 5 * time.Minute
	defaultRelistPeriod       = time.Second
	defaultSyncPeriod         = time.Minute
	defaultStaticPollPeriod   = 5 * time.Second
	defaultMaxPods            = 110
	minimumGracePeriodSeconds = 2
)

// validate checks o and fills in the defaults.
func (o *Options) validate() error {
	var errs []error
	if o.Config == nil {
		errs = append(errs, errors.New("Config is required"))
	}
	if o.NodeName == "" {
		errs = append(errs, errors.New("NodeName is required"))
	} else if msgs := validation.IsDNS1123Subdomain(o.NodeName); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("NodeName %q: %v", o.NodeName, msgs))
	}
	if o.DataDir == "" {
		errs = append(errs, errors.New("DataDir is required"))
	}
	if o.Runtime == nil {
		errs = append(errs, errors.New("Runtime is required"))
	}
	if o.KubeletPort < 0 || o.KubeletPort > 65535 {
		errs = append(errs, fmt.Errorf("KubeletPort %d is not a port", o.KubeletPort))
	}
	for _, d := range []time.Duration{o.LeaseDuration, o.LeaseRenewInterval, o.NodeStatusUpdateFrequency,
		o.NodeStatusReportFrequency, o.BackOffBase, o.BackOffMax, o.RelistPeriod, o.SyncPeriod, o.StaticPodPollPeriod} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("negative duration %v", d))
			break
		}
	}
	for _, a := range o.Addresses {
		if a.Address == "" || a.Type == "" {
			errs = append(errs, fmt.Errorf("address %+v needs a type and an address", a))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("agent: invalid options: %w", err)
	}
	var err error
	if o.DataDir, err = filepath.Abs(o.DataDir); err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	if o.MaxPods < 0 {
		return fmt.Errorf("agent: invalid options: MaxPods %d is negative", o.MaxPods)
	}
	if o.MaxPods == 0 {
		o.MaxPods = defaultMaxPods
	}
	if o.StaticPodDir == "" {
		o.StaticPodDir = filepath.Join(o.DataDir, "manifests")
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	setDefault(&o.LeaseDuration, defaultLeaseDuration)
	setDefault(&o.LeaseRenewInterval, o.LeaseDuration/4)
	setDefault(&o.NodeStatusUpdateFrequency, defaultStatusUpdate)
	setDefault(&o.NodeStatusReportFrequency, defaultStatusReport)
	setDefault(&o.BackOffBase, defaultBackOffBase)
	setDefault(&o.BackOffMax, defaultBackOffMax)
	setDefault(&o.RelistPeriod, defaultRelistPeriod)
	setDefault(&o.SyncPeriod, defaultSyncPeriod)
	setDefault(&o.StaticPodPollPeriod, defaultStaticPollPeriod)
	if o.BackOffMax < o.BackOffBase {
		o.BackOffMax = o.BackOffBase
	}
	return nil
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}
