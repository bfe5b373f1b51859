package agent

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"skiff.dev/internal/agent/envvars"
	"skiff.dev/internal/agent/probe"
	"skiff.dev/internal/agent/volumes"
	"skiff.dev/internal/runtime"
)

// Agent is a node agent: it registers its Node, keeps its Lease and status
// fresh, and runs the pods bound to the node (and the static pods in its
// manifest directory) on its runtime. Create it with New, start it with
// Run.
type Agent struct {
	o      Options
	log    *slog.Logger
	client kubernetes.Interface
	rt     runtime.Runtime

	// Seams for the env and volume packages.
	volumes volumeManager
	resolve envResolver
	prober  *probe.Prober
	probes  *probe.Manager

	allocatable corev1.ResourceList
	capacity    corev1.ResourceList
	hostIPs     []string

	// Set by Run.
	ctx         context.Context
	recorder    record.EventRecorder
	runtimeName string
	runtimeVer  string
	node        nodeState
	nodeUID     atomic.Value // types.UID
	lastRelist  atomic.Int64 // unix nanos
	pods        *podSource
	services    *serviceSource
	static      *staticSource
	wg          sync.WaitGroup

	mu      sync.Mutex
	workers map[types.UID]*worker
}

// volumeManager is what the agent needs of volumes.Manager.
type volumeManager interface {
	Setup(ctx context.Context, pod *corev1.Pod) error
	MountsWithEnv(pod *corev1.Pod, c *corev1.Container, env []*runtimeapi.KeyValue) ([]*runtimeapi.Mount, error)
	Cleanup(podUID types.UID) error
}

// envResolver is envvars.ResolveWithServices.
type envResolver func(ctx context.Context, pod *corev1.Pod, c *corev1.Container, src envvars.Source,
	nodeAllocatable corev1.ResourceList, services map[string]string) ([]*runtimeapi.KeyValue, error)

// New validates o and returns an Agent. Besides reading the host's
// capacity it only creates the pods directory; the API is not reached
// before Run.
func New(o Options) (*Agent, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	cfg := rest.CopyConfig(o.Config)
	if cfg.UserAgent == "" {
		cfg.UserAgent = "skiff-agent/" + o.NodeName
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	a := &Agent{o: o, log: o.Log.With("node", o.NodeName), client: client, rt: o.Runtime,
		resolve: envvars.ResolveWithServices, workers: map[types.UID]*worker{}}
	if len(a.o.Addresses) == 0 {
		a.o.Addresses = DefaultAddresses(o.NodeName)
	}
	for _, addr := range a.o.Addresses {
		if addr.Type == corev1.NodeInternalIP {
			a.hostIPs = append(a.hostIPs, addr.Address)
		}
	}
	a.capacity = o.Capacity.DeepCopy()
	if a.capacity == nil {
		a.capacity = hostCapacity(o.DataDir, o.MaxPods)
	}
	a.allocatable = allocatable(a.capacity)
	src := &objectSource{client: client}
	vm, err := volumes.New(volumes.Options{Root: a.podsDir(), Source: src, NodeAllocatable: a.allocatable, Tokens: src})
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	a.volumes = vm
	a.prober = &probe.Prober{Exec: o.Runtime}
	a.probes = probe.NewManager(a.prober, a.probeChanged)
	a.probes.Observe = a.probeObserved
	return a, nil
}

// podsDir holds pod directories (volumes, termination logs) and logs.
func (a *Agent) podsDir() string { return filepath.Join(a.o.DataDir, "pods") }

// Run runs the agent until ctx ends. It registers the Node, starts the
// Lease and node status loops, adopts what the runtime already runs for
// this node's pods, stops what belongs to no pod, and then keeps every pod
// in sync. Containers keep running after Run returns; a new Agent on the
// same runtime takes them over. Run returns nil once ctx ends, and an
// error only when the agent cannot start. It may be called once.
func (a *Agent) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.ctx = ctx
	v, err := a.rt.Version(ctx, "v1")
	if err != nil {
		return stopped(ctx, fmt.Errorf("agent: runtime version: %w", err))
	}
	a.runtimeName, a.runtimeVer = v.GetRuntimeName(), v.GetRuntimeVersion()

	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	defer broadcaster.Shutdown()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: a.client.CoreV1().Events("")})
	a.recorder = broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "kubelet", Host: a.o.NodeName})

	if err := a.register(ctx); err != nil {
		return stopped(ctx, err)
	}
	a.recorder.Eventf(a.nodeRef(), corev1.EventTypeNormal, "Starting", "Starting kubelet.")
	a.lastRelist.Store(time.Now().UnixNano())

	a.goLoop(func() { a.leaseLoop(ctx) })
	a.goLoop(func() { a.nodeStatusLoop(ctx) })

	a.services = newServiceSource(a)
	if err := a.services.start(ctx, a); err != nil {
		return stopped(ctx, err)
	}
	a.pods = newPodSource(a)
	if err := a.pods.start(ctx); err != nil {
		return stopped(ctx, err)
	}
	a.static = newStaticSource(a)
	a.static.poll(ctx)
	if err := a.collectOrphans(ctx); err != nil {
		a.log.Warn("agent: cleaning up the runtime", "err", err)
	}
	a.goLoop(func() { a.relistLoop(ctx) })
	a.goLoop(func() { a.static.loop(ctx) })

	<-ctx.Done()
	a.wg.Wait()
	a.probes.Close()
	return nil
}

// stopped is err, or nil when ctx ended: stopping is no error.
func stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// goLoop runs f in a goroutine that Run waits for.
func (a *Agent) goLoop(f func()) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		f()
	}()
}

// probeChanged wakes the pod whose probe result changed.
func (a *Agent) probeChanged(u probe.Update) {
	if w := a.worker(u.PodUID); w != nil {
		w.probeChanged(u)
	}
}

// probeObserved records an Unhealthy event for each failed probe.
func (a *Agent) probeObserved(u probe.Update) {
	if w := a.worker(u.PodUID); w != nil {
		w.probeObserved(u)
	}
}

// worker returns the worker of a pod, or nil.
func (a *Agent) worker(uid types.UID) *worker {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.workers[uid]
}
