package sim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"net/netip"
	"strings"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/utils/clock"

	"skiff.dev/internal/runtime"
)

var _ runtime.Runtime = (*Runtime)(nil)

// RuntimeName is the name the runtime reports in Version.
const RuntimeName = "skiff-sim"

// Options configure a Runtime.
type Options struct {
	// HostIP is the IP sandboxes report when PodCIDR is empty.
	HostIP string
	// PodCIDR, when set, gives each sandbox an address of its own from this
	// range (the network and the first address are skipped, as a bridge
	// network's gateway takes the first).
	PodCIDR string
	// Clock tells the time; nil is the real clock.
	Clock clock.PassiveClock
}

// Runtime keeps hollow sandboxes and containers. It is safe for concurrent
// use.
type Runtime struct {
	hostIP string
	ips    *ipPool
	clock  clock.PassiveClock

	mu         sync.RWMutex
	sandboxes  map[string]*sandbox
	containers map[string]*container
}

// sandbox is a hollow pod sandbox.
type sandbox struct {
	id                   string
	name, namespace, uid string
	attempt              uint32
	labels, annotations  map[string]string
	handler              string
	ip                   string
	createdAt            int64
	ready                bool
}

// New returns an empty runtime.
func New(opts Options) (*Runtime, error) {
	r := &Runtime{
		hostIP:     opts.HostIP,
		clock:      opts.Clock,
		sandboxes:  map[string]*sandbox{},
		containers: map[string]*container{},
	}
	if r.clock == nil {
		r.clock = clock.RealClock{}
	}
	if opts.HostIP != "" {
		if _, err := netip.ParseAddr(opts.HostIP); err != nil {
			return nil, fmt.Errorf("sim: Options.HostIP: %w", err)
		}
	}
	if opts.PodCIDR != "" {
		pool, err := newIPPool(opts.PodCIDR)
		if err != nil {
			return nil, err
		}
		r.ips = pool
	}
	return r, nil
}

// Version reports the runtime's name.
func (r *Runtime) Version(ctx context.Context, apiVersion string) (*runtimeapi.VersionResponse, error) {
	return &runtimeapi.VersionResponse{Version: "0.1.0", RuntimeName: RuntimeName, RuntimeVersion: "0.1.0", RuntimeApiVersion: "v1"}, nil
}

// RunPodSandbox creates a ready sandbox.
func (r *Runtime) RunPodSandbox(ctx context.Context, config *runtimeapi.PodSandboxConfig, runtimeHandler string) (string, error) {
	md := config.GetMetadata()
	if md == nil {
		return "", status.Error(codes.InvalidArgument, "sim: pod sandbox config has no metadata")
	}
	sb := &sandbox{
		id:          newID(),
		name:        md.Name,
		namespace:   md.Namespace,
		uid:         md.Uid,
		attempt:     md.Attempt,
		labels:      maps.Clone(config.Labels),
		annotations: maps.Clone(config.Annotations),
		handler:     runtimeHandler,
		ip:          r.hostIP,
		createdAt:   r.clock.Now().UnixNano(),
		ready:       true,
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ips != nil {
		ip, err := r.ips.take(sb.id)
		if err != nil {
			return "", err
		}
		sb.ip = ip
	}
	r.sandboxes[sb.id] = sb
	return sb.id, nil
}

// StopPodSandbox stops the sandbox's containers and marks it not ready.
func (r *Runtime) StopPodSandbox(ctx context.Context, podSandboxID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, ok := r.sandboxes[podSandboxID]
	if !ok {
		return notFound("pod sandbox", podSandboxID)
	}
	now := r.clock.Now()
	for _, c := range r.containers {
		if c.sandboxID == podSandboxID {
			c.stop(now)
		}
	}
	sb.ready = false
	return nil
}

// RemovePodSandbox removes the sandbox and its containers. Removing a
// sandbox that does not exist succeeds, as CRI asks.
func (r *Runtime) RemovePodSandbox(ctx context.Context, podSandboxID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.sandboxes[podSandboxID]; !ok {
		return nil
	}
	for id, c := range r.containers {
		if c.sandboxID == podSandboxID {
			delete(r.containers, id)
		}
	}
	delete(r.sandboxes, podSandboxID)
	if r.ips != nil {
		r.ips.give(podSandboxID)
	}
	return nil
}

// PodSandboxStatus reports the sandbox.
func (r *Runtime) PodSandboxStatus(ctx context.Context, podSandboxID string, verbose bool) (*runtimeapi.PodSandboxStatusResponse, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	sb, ok := r.sandboxes[podSandboxID]
	if !ok {
		return nil, notFound("pod sandbox", podSandboxID)
	}
	return &runtimeapi.PodSandboxStatusResponse{
		Status: &runtimeapi.PodSandboxStatus{
			Id:             sb.id,
			Metadata:       sb.metadata(),
			State:          sb.state(),
			CreatedAt:      sb.createdAt,
			Network:        &runtimeapi.PodSandboxNetworkStatus{Ip: sb.ip},
			Labels:         maps.Clone(sb.labels),
			Annotations:    maps.Clone(sb.annotations),
			RuntimeHandler: sb.handler,
		},
		Timestamp: r.clock.Now().UnixNano(),
	}, nil
}

// ListPodSandbox lists the sandboxes that match filter.
func (r *Runtime) ListPodSandbox(ctx context.Context, filter *runtimeapi.PodSandboxFilter) ([]*runtimeapi.PodSandbox, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []*runtimeapi.PodSandbox
	for _, sb := range r.sandboxes {
		if filter != nil {
			if filter.Id != "" && !strings.HasPrefix(sb.id, filter.Id) {
				continue
			}
			if filter.State != nil && filter.State.State != sb.state() {
				continue
			}
			if !matchLabels(sb.labels, filter.LabelSelector) {
				continue
			}
		}
		out = append(out, &runtimeapi.PodSandbox{
			Id:             sb.id,
			Metadata:       sb.metadata(),
			State:          sb.state(),
			CreatedAt:      sb.createdAt,
			Labels:         maps.Clone(sb.labels),
			Annotations:    maps.Clone(sb.annotations),
			RuntimeHandler: sb.handler,
		})
	}
	return out, nil
}

// Exec is not supported: there is nothing to run a command in.
func (r *Runtime) Exec(ctx context.Context, req *runtimeapi.ExecRequest) (*runtimeapi.ExecResponse, error) {
	return nil, status.Error(codes.Unimplemented, "sim: hollow containers cannot exec")
}

// Attach is not supported: hollow containers have no stdio.
func (r *Runtime) Attach(ctx context.Context, req *runtimeapi.AttachRequest) (*runtimeapi.AttachResponse, error) {
	return nil, status.Error(codes.Unimplemented, "sim: hollow containers cannot be attached to")
}

// PortForward is not supported: hollow pods listen on nothing.
func (r *Runtime) PortForward(ctx context.Context, req *runtimeapi.PortForwardRequest) (*runtimeapi.PortForwardResponse, error) {
	return nil, status.Error(codes.Unimplemented, "sim: hollow pods cannot forward ports")
}

func (sb *sandbox) metadata() *runtimeapi.PodSandboxMetadata {
	return &runtimeapi.PodSandboxMetadata{Name: sb.name, Namespace: sb.namespace, Uid: sb.uid, Attempt: sb.attempt}
}

func (sb *sandbox) state() runtimeapi.PodSandboxState {
	if sb.ready {
		return runtimeapi.PodSandboxState_SANDBOX_READY
	}
	return runtimeapi.PodSandboxState_SANDBOX_NOTREADY
}

func notFound(what, id string) error {
	return status.Errorf(codes.NotFound, "sim: %s %q not found", what, id)
}

// matchLabels reports whether labels has every pair of selector.
func matchLabels(labels, selector map[string]string) bool {
	for k, v := range selector {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// newID returns a random 64-character hexadecimal id.
func newID() string {
	var b [32]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
