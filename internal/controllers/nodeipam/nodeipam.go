// Package nodeipam is the node IPAM controller with upstream's range
// allocator: it cuts the cluster CIDR (--cluster-cidr) into pod CIDRs of
// --node-cidr-mask-size and gives every Node without one the lowest free
// CIDR as spec.podCIDR and spec.podCIDRs. Node agents hand pod addresses
// out of that CIDR.
//
// At start it waits for the node cache and marks the CIDRs of all existing
// nodes used before it hands out any; a deleted node's CIDR is free again.
// A podCIDR is never changed (the API server forbids it): a node whose
// CIDR lies outside the cluster CIDR keeps it and gets a Warning event,
// and when the range is used up a node gets upstream's CIDRNotAvailable
// event and waits until a CIDR is freed.
package nodeipam

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"skiff.dev/internal/controllers/ctrl"
)

// Name is the controller's name, for logs and leader election.
const Name = "node-ipam-controller"

// component is the source of its events, as upstream's range allocator.
const component = "cidrAllocator"

// Event reasons. The first two are upstream's; upstream has no event for
// a CIDR outside the range (its allocator refuses to start).
const (
	ReasonCIDRNotAvailable     = "CIDRNotAvailable"
	ReasonCIDRAssignmentFailed = "CIDRAssignmentFailed"
	ReasonCIDROutOfRange       = "CIDROutOfRange"
)

// Controller gives nodes pod CIDRs.
type Controller struct {
	client   kubernetes.Interface
	log      *slog.Logger
	recorder record.EventRecorder
	nodes    corelisters.NodeLister
	synced   cache.InformerSynced
	queue    ctrl.Queue
	alloc    *Allocator
	workers  int

	mu sync.Mutex
	// waiting are nodes told CIDRNotAvailable; they are synced again when
	// a CIDR is freed.
	waiting map[string]bool
	// reported are nodes told about CIDRs they have that are outside the
	// range (or not CIDRs at all), so each is told once.
	reported map[string]string
}

// New builds the controller; a bad cluster CIDR or mask size is an error.
func New(cc *ctrl.Context) (ctrl.Controller, error) {
	opts := cc.Options.WithDefaults()
	alloc, err := NewAllocator(opts.ClusterCIDR, opts.NodeCIDRMaskSize)
	if err != nil {
		return nil, err
	}
	c := &Controller{client: cc.Client, log: cc.Log.With("controller", Name), recorder: cc.Recorder(component),
		queue: ctrl.NewQueue(Name), alloc: alloc, workers: opts.Workers,
		waiting: map[string]bool{}, reported: map[string]string{}}
	nodes := cc.Informers.Core().V1().Nodes()
	c.nodes, c.synced = nodes.Lister(), nodes.Informer().HasSynced
	_, err = nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { ctrl.Enqueue(c.queue, obj) },
		UpdateFunc: func(_, obj any) { ctrl.Enqueue(c.queue, obj) },
		DeleteFunc: func(obj any) { ctrl.Enqueue(c.queue, obj) },
	})
	if err != nil {
		return nil, fmt.Errorf("nodeipam: %w", err)
	}
	return c, nil
}

// Run waits for the node cache, marks every existing node's CIDRs used,
// and only then starts handing CIDRs out, until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	if !ctrl.WaitForSync(ctx, c.synced) {
		c.queue.ShutDown()
		return
	}
	if err := c.load(); err != nil {
		c.log.Error("cannot list nodes", "err", err)
		c.queue.ShutDown()
		return
	}
	c.log.Info("allocating pod CIDRs", "clusterCIDR", c.alloc.Cluster(), "free", c.alloc.Free())
	ctrl.Workers(ctx, c.queue, c.workers, c.log, c.sync)
}

// load marks the CIDRs of every node in the cache used.
func (c *Controller) load() error {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("nodeipam: %w", err)
	}
	for _, n := range nodes {
		if hasPodCIDR(n) {
			c.occupy(n)
		}
	}
	return nil
}

// sync brings the allocator in step with one node: a node that is gone
// frees its CIDRs, one with CIDRs holds them, one without gets one.
func (c *Controller) sync(ctx context.Context, name string) error {
	node, err := c.nodes.Get(name)
	if apierrors.IsNotFound(err) {
		c.release(name)
		return nil
	}
	if err != nil {
		return err
	}
	if node.DeletionTimestamp != nil {
		c.release(name)
		return nil
	}
	if hasPodCIDR(node) {
		c.occupy(node)
		return nil
	}
	return c.assign(ctx, node)
}

// occupy marks the node's CIDRs as held by it and reports, once, those
// that are outside the range or unreadable; the node keeps them.
func (c *Controller) occupy(node *corev1.Node) {
	cidrs, bad := parseCIDRs(podCIDRs(node))
	outside, freed := c.alloc.Occupy(node.Name, cidrs)
	for _, p := range outside {
		bad = append(bad, p.String())
	}
	c.mu.Lock()
	delete(c.waiting, node.Name)
	report := len(bad) > 0 && c.reported[node.Name] != fmt.Sprint(bad)
	if report {
		c.reported[node.Name] = fmt.Sprint(bad)
	}
	c.mu.Unlock()
	if report {
		c.log.Warn("node has a pod CIDR outside the cluster CIDR; leaving it alone",
			"node", node.Name, "podCIDRs", bad, "clusterCIDR", c.alloc.Cluster())
		c.recorder.Eventf(nodeRef(node), corev1.EventTypeWarning, ReasonCIDROutOfRange,
			"Node %s has pod CIDR %s outside the cluster CIDR %s", node.Name, strings.Join(bad, ","), c.alloc.Cluster())
	}
	if freed > 0 {
		c.wakeWaiting()
	}
}

// release frees what the node held and forgets it.
func (c *Controller) release(name string) {
	freed := c.alloc.Release(name)
	c.mu.Lock()
	delete(c.waiting, name)
	delete(c.reported, name)
	c.mu.Unlock()
	if freed > 0 {
		c.wakeWaiting()
	}
}

// wakeWaiting queues the nodes waiting for a CIDR.
func (c *Controller) wakeWaiting() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for name := range c.waiting {
		c.queue.Add(name)
	}
}

// hasPodCIDR tells whether the node has been given a pod CIDR.
func hasPodCIDR(n *corev1.Node) bool {
	return len(n.Spec.PodCIDRs) > 0 || n.Spec.PodCIDR != ""
}

// podCIDRs is spec.podCIDRs, or spec.podCIDR for an object that has only
// the older field.
func podCIDRs(n *corev1.Node) []string {
	if len(n.Spec.PodCIDRs) > 0 {
		return n.Spec.PodCIDRs
	}
	if n.Spec.PodCIDR != "" {
		return []string{n.Spec.PodCIDR}
	}
	return nil
}

// parseCIDRs parses CIDR strings, setting aside those that are not CIDRs.
func parseCIDRs(in []string) (cidrs []netip.Prefix, bad []string) {
	for _, s := range in {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			bad = append(bad, s)
			continue
		}
		cidrs = append(cidrs, p.Masked())
	}
	return cidrs, bad
}

// nodeRef is what node events are about, as upstream's node helpers
// build it.
func nodeRef(n *corev1.Node) *corev1.ObjectReference {
	return &corev1.ObjectReference{APIVersion: "v1", Kind: "Node", Name: n.Name, UID: n.UID}
}
