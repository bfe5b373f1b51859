package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"

	"skiff.dev/internal/scheduler/cache"
	"skiff.dev/internal/scheduler/framework"
	"skiff.dev/internal/scheduler/plugins"
	"skiff.dev/internal/scheduler/queue"
)

// Defaults of Options.
const (
	DefaultSchedulerName = corev1.DefaultSchedulerName
	// DefaultQPS and DefaultBurst limit the scheduler's own client (made
	// from Options.Config): high enough for thousands of bindings a
	// second.
	DefaultQPS   = 5000
	DefaultBurst = 10000
	// DefaultEventQPS and DefaultEventBurst pace the events the scheduler
	// writes (see events.go).
	DefaultEventQPS   = 100
	DefaultEventBurst = 200
	// DefaultAPIWorkers is how many bindings and status updates may be in
	// flight at once.
	DefaultAPIWorkers = 64
)

// Options configure a Scheduler. Config, or Client, is required.
type Options struct {
	// Config reaches the API server. The scheduler talks protobuf and
	// raises the client's rate limits to QPS and Burst on its own copy.
	Config *rest.Config
	// Client is used instead of a client made from Config, for events
	// too; Informers, if set, is a factory over the same client that the
	// caller starts or lets Run start.
	Client    kubernetes.Interface
	Informers informers.SharedInformerFactory

	// SchedulerName is the spec.schedulerName of the pods to schedule;
	// default "default-scheduler".
	SchedulerName string
	// Log receives the scheduler's log lines; nil discards them.
	Log *slog.Logger

	// QPS and Burst limit the client made from Config (default 5000 and
	// 10000; a negative QPS means no limit). EventQPS and EventBurst pace
	// the events written (default 100 a second, in bursts of 200); events
	// wait in a queue meanwhile.
	QPS, EventQPS     float32
	Burst, EventBurst int

	// PercentageOfNodesToScore bounds how many feasible nodes a cycle
	// looks for before it stops filtering and scores them; 0 is upstream's
	// adaptive default (50% less 1% per 125 nodes, at least 5%, never
	// fewer than 100 nodes).
	PercentageOfNodesToScore int32
	// Parallelism is how many goroutines filter nodes; default half of
	// GOMAXPROCS (at least 1): the filters are cheap, and in `skiff up` the
	// other half of the machine is the API server's, which binding keeps
	// busy. Fanning out pays when filters are expensive or cores idle.
	Parallelism int
	// APIWorkers is how many bindings and status updates may be in flight
	// at once; default 64.
	APIWorkers int
	// DisabledPlugins names registry plugins to leave out.
	DisabledPlugins []string

	// InitialBackoff, MaxBackoff and MaxInUnschedulable tune the queue;
	// zero values are upstream's 1 s, 10 s and 5 min.
	InitialBackoff, MaxBackoff, MaxInUnschedulable time.Duration
}

// Scheduler schedules the pods that name it. Build it with New and start
// it with Run.
type Scheduler struct {
	name      string
	log       *slog.Logger
	client    kubernetes.Interface
	factory   informers.SharedInformerFactory
	pods      toolscache.SharedIndexInformer
	nodes     toolscache.SharedIndexInformer
	podLister corelisters.PodLister

	fw       *framework.Framework
	algo     *algorithm
	cache    *cache.Cache
	snapshot *cache.Snapshot
	queue    *queue.Queue

	broadcaster events.EventBroadcaster
	events      *eventQueue

	apiWorkers int
	calls      chan func(context.Context)
	counts     counters
	running    atomic.Bool
}

// New checks the options and builds a scheduler; nothing runs until Run.
func New(o Options) (*Scheduler, error) {
	if o.Config == nil && o.Client == nil {
		return nil, errors.New("scheduler: Options.Config or Options.Client is required")
	}
	if o.Informers != nil && o.Client == nil {
		return nil, errors.New("scheduler: Options.Informers needs Options.Client")
	}
	if o.Parallelism < 0 || o.APIWorkers < 0 || o.EventQPS < 0 || o.EventBurst < 0 {
		return nil, errors.New("scheduler: Parallelism, APIWorkers, EventQPS and EventBurst cannot be negative")
	}
	if o.PercentageOfNodesToScore < 0 || o.PercentageOfNodesToScore > 100 {
		return nil, fmt.Errorf("scheduler: PercentageOfNodesToScore is %d, want 0 to 100", o.PercentageOfNodesToScore)
	}
	s := &Scheduler{name: o.SchedulerName, log: o.Log, apiWorkers: o.APIWorkers}
	if s.name == "" {
		s.name = DefaultSchedulerName
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.apiWorkers == 0 {
		s.apiWorkers = DefaultAPIWorkers
	}
	parallelism := o.Parallelism
	if parallelism == 0 {
		parallelism = max(runtime.GOMAXPROCS(0)/2, 1)
	}
	eventQPS, eventBurst := orDefault(o.EventQPS, DefaultEventQPS), orDefault(o.EventBurst, DefaultEventBurst)
	client, eventClient, err := clients(o, eventQPS, eventBurst)
	if err != nil {
		return nil, err
	}
	s.client = client
	s.fw, err = plugins.NewFramework(o.DisabledPlugins...)
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	s.algo = newAlgorithm(s.fw, o.PercentageOfNodesToScore, parallelism)
	s.cache, s.snapshot = cache.New(), cache.NewSnapshot()
	s.queue = queue.New(queue.Options{InitialBackoff: o.InitialBackoff, MaxBackoff: o.MaxBackoff,
		MaxInUnschedulable: o.MaxInUnschedulable, Interested: s.fw.Interested})
	s.broadcaster = events.NewBroadcaster(quietSink{&events.EventSinkImpl{Interface: eventClient.EventsV1()}})
	s.events = newEventQueue(s.broadcaster.NewRecorder(scheme.Scheme, s.name), eventQPS, eventBurst, &s.counts.eventsDropped)

	s.factory = o.Informers
	if s.factory == nil {
		s.factory = informers.NewSharedInformerFactory(client, 0)
		s.pods = s.factory.InformerFor(&corev1.Pod{}, newPodInformer)
		// The scheduler never reads managedFields; not keeping them saves
		// memory and time on every pod.
		if err := s.pods.SetTransform(dropManagedFields); err != nil {
			return nil, fmt.Errorf("scheduler: %w", err)
		}
	} else {
		s.pods = s.factory.InformerFor(&corev1.Pod{}, newPodInformer)
	}
	s.podLister = corelisters.NewPodLister(s.pods.GetIndexer())
	s.nodes = s.factory.Core().V1().Nodes().Informer()
	if err := s.addHandlers(); err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	return s, nil
}

// clients returns the client for the scheduler's work and the one for its
// events.
func clients(o Options, eventQPS float32, eventBurst int) (client, eventClient kubernetes.Interface, err error) {
	if o.Client != nil {
		return o.Client, o.Client, nil
	}
	cfg := rest.CopyConfig(o.Config)
	cfg.QPS, cfg.Burst = orDefault(o.QPS, DefaultQPS), orDefault(o.Burst, DefaultBurst)
	cfg.RateLimiter = nil
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	if cfg.UserAgent == "" {
		cfg.UserAgent = rest.DefaultKubernetesUserAgent() + "/scheduler"
	}
	if client, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, nil, fmt.Errorf("scheduler: %w", err)
	}
	ecfg := rest.CopyConfig(cfg)
	ecfg.QPS, ecfg.Burst = 2*eventQPS, 2*eventBurst // the queue paces; this only bounds retries
	if eventClient, err = kubernetes.NewForConfig(ecfg); err != nil {
		return nil, nil, fmt.Errorf("scheduler: %w", err)
	}
	return client, eventClient, nil
}

func orDefault[T float32 | int](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// newPodInformer watches the pods that are not finished: a pod that
// succeeds or fails leaves the informer (a delete), freeing its node.
func newPodInformer(cs kubernetes.Interface, resync time.Duration) toolscache.SharedIndexInformer {
	return coreinformers.NewFilteredPodInformer(cs, metav1.NamespaceAll, resync, toolscache.Indexers{},
		func(o *metav1.ListOptions) { o.FieldSelector = "status.phase!=Succeeded,status.phase!=Failed" })
}

func dropManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// Run schedules pods until ctx ends. It starts the informers (unless the
// caller's factory already runs them), waits for them to sync, and returns
// nil when ctx ends, or an error if it could not start. A Scheduler runs
// once.
func (s *Scheduler) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("scheduler: Run was called twice")
	}
	s.factory.Start(ctx.Done())
	if !toolscache.WaitForCacheSync(ctx.Done(), s.pods.HasSynced, s.nodes.HasSynced) {
		if ctx.Err() != nil {
			return nil
		}
		return errors.New("scheduler: informers did not sync")
	}
	if err := s.broadcaster.StartRecordingToSinkWithContext(ctx); err != nil {
		return fmt.Errorf("scheduler: events: %w", err)
	}
	defer s.broadcaster.Shutdown()
	go s.events.run(ctx)
	go s.queue.Run(ctx)
	s.calls = make(chan func(context.Context), s.apiWorkers)
	var wg sync.WaitGroup
	for range s.apiWorkers {
		wg.Go(func() {
			for call := range s.calls {
				call(ctx)
			}
		})
	}
	s.log.Info("scheduler started", "name", s.name)
	for s.scheduleOne(ctx) {
	}
	close(s.calls)
	wg.Wait()
	return nil
}
