package process

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"skiff.dev/internal/runtime"
)

var _ runtime.Runtime = (*Runtime)(nil)

// Names the runtime reports in Version.
const (
	RuntimeName    = "skiff-process"
	RuntimeVersion = "0.1.0"
)

// Defaults of Options.
const (
	DefaultCgroupParent = "skiff"
	DefaultStreamAddr   = "127.0.0.1:0"
	DefaultLogMaxSize   = 10 << 20
	DefaultLogMaxFiles  = 5
)

// Options configure a Runtime.
type Options struct {
	// Dir is the state directory (required). A new Runtime on the same Dir
	// finds every sandbox and container that an earlier one left.
	Dir string
	// Log receives the runtime's own messages; nil discards them.
	Log *slog.Logger
	// HostIP is reported as every sandbox's IP: pods share the host's
	// network.
	HostIP string
	// StreamAddr is where the exec/attach/port-forward server listens
	// (default 127.0.0.1:0, a free loopback port).
	StreamAddr string
	// CgroupParent names the cgroup under which pods are placed, relative to
	// the runtime's own cgroup (default "skiff").
	CgroupParent string
	// LogMaxSize is the size at which a container log rotates (default
	// 10 MiB); LogMaxFiles is how many files of it are kept, counting the
	// live one (default 5).
	LogMaxSize  int64
	LogMaxFiles int
	// PodPidsLimit, when positive, caps the number of processes in a pod
	// (pids.max of the pod's cgroup), like kubelet's podPidsLimit.
	PodPidsLimit int64
}

// Runtime runs containers as host processes. See the package doc.
type Runtime struct {
	opts Options
	log  *slog.Logger
	// root: the runtime may set up cgroups, mount namespaces and users.
	root bool
	// cgroupParents maps a controller to the directory pods go under; nil
	// when cgroups cannot be used, and noCgroups then says why.
	cgroupParents map[string]string
	noCgroups     error
	streams       *streamServer
	sup           *supervisorClient

	mu         sync.Mutex
	sandboxes  map[string]*sandboxRecord
	containers map[string]*container
}

// container is a container the runtime knows.
type container struct {
	rec *containerRecord
	dir string
	// op serialises start, stop and remove.
	op sync.Mutex
	// final caches the state once the container has exited: it no longer
	// changes.
	final atomic.Pointer[containerState]
}

// New opens (or creates) the state in opts.Dir and starts the streaming
// server.
func New(opts Options) (*Runtime, error) {
	if opts.Dir == "" {
		return nil, errors.New("process: Options.Dir is required")
	}
	if opts.HostIP != "" {
		if _, err := netip.ParseAddr(opts.HostIP); err != nil {
			return nil, fmt.Errorf("process: Options.HostIP: %w", err)
		}
	}
	if opts.LogMaxSize < 0 || opts.LogMaxFiles < 0 || opts.PodPidsLimit < 0 {
		return nil, errors.New("process: Options.LogMaxSize, LogMaxFiles and PodPidsLimit must not be negative")
	}
	opts.StreamAddr = cmp.Or(opts.StreamAddr, DefaultStreamAddr)
	opts.CgroupParent = cmp.Or(opts.CgroupParent, DefaultCgroupParent)
	if opts.LogMaxSize == 0 {
		opts.LogMaxSize = DefaultLogMaxSize
	}
	if opts.LogMaxFiles == 0 {
		opts.LogMaxFiles = DefaultLogMaxFiles
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Runtime{
		opts:       opts,
		log:        log,
		root:       os.Geteuid() == 0,
		sandboxes:  map[string]*sandboxRecord{},
		containers: map[string]*container{},
	}
	if r.root {
		r.cgroupParents, r.noCgroups = cgroupParents(opts.CgroupParent)
	} else {
		r.noCgroups = fmt.Errorf("process: cgroups need root and the runtime runs as uid %d", os.Geteuid())
	}
	if r.noCgroups != nil {
		log.Info("process runtime: containers run without cgroups; containers with memory or CPU limits are refused", "reason", r.noCgroups)
	}
	for _, sub := range []string{"sandboxes", "containers"} {
		if err := os.MkdirAll(filepath.Join(opts.Dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("process: create state directory: %w", err)
		}
	}
	if err := r.load(); err != nil {
		return nil, err
	}
	// Connect to the supervisor if one runs; one is started with the first
	// container otherwise.
	r.sup = &supervisorClient{dir: opts.Dir, log: log}
	r.sup.hold()
	streams, err := startStreams(opts.StreamAddr, streamRuntime{r})
	if err != nil {
		r.sup.close()
		return nil, err
	}
	r.streams = streams
	return r, nil
}

// load reads the records an earlier runtime left in the state directory.
func (r *Runtime) load() error {
	dirs, err := os.ReadDir(filepath.Join(r.opts.Dir, "sandboxes"))
	if err != nil {
		return fmt.Errorf("process: read state: %w", err)
	}
	for _, d := range dirs {
		rec := &sandboxRecord{}
		if err := readJSON(filepath.Join(r.sandboxDir(d.Name()), sandboxFile), rec); err != nil {
			r.log.Warn("process runtime: skipping unreadable sandbox", "id", d.Name(), "err", err)
			continue
		}
		r.sandboxes[rec.ID] = rec
	}
	dirs, err = os.ReadDir(filepath.Join(r.opts.Dir, "containers"))
	if err != nil {
		return fmt.Errorf("process: read state: %w", err)
	}
	for _, d := range dirs {
		dir := r.containerDir(d.Name())
		rec := &containerRecord{}
		if err := readJSON(filepath.Join(dir, containerFile), rec); err != nil {
			r.log.Warn("process runtime: skipping unreadable container", "id", d.Name(), "err", err)
			continue
		}
		r.containers[rec.ID] = &container{rec: rec, dir: dir}
	}
	return nil
}

// Close stops the streaming server and lets go of the supervisor, which
// exits before Close returns if no container runs and no other Runtime is
// connected. Containers keep running under the supervisor; a new Runtime on
// the same directory takes them over.
func (r *Runtime) Close() error {
	r.sup.close()
	return r.streams.close()
}

// StreamURL is the base URL of the exec/attach/port-forward server; the
// URLs that Exec, Attach and PortForward return are below it.
func (r *Runtime) StreamURL() string {
	return r.streams.url
}

// Version reports the runtime's name and version.
func (r *Runtime) Version(ctx context.Context, apiVersion string) (*runtimeapi.VersionResponse, error) {
	return &runtimeapi.VersionResponse{
		Version:           "0.1.0",
		RuntimeName:       RuntimeName,
		RuntimeVersion:    RuntimeVersion,
		RuntimeApiVersion: "v1",
	}, nil
}

func (r *Runtime) sandboxDir(id string) string   { return filepath.Join(r.opts.Dir, "sandboxes", id) }
func (r *Runtime) containerDir(id string) string { return filepath.Join(r.opts.Dir, "containers", id) }

// sandbox returns the sandbox id or a NotFound error.
func (r *Runtime) sandbox(id string) (*sandboxRecord, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.sandboxes[id]; ok {
		return s, nil
	}
	return nil, status.Errorf(codes.NotFound, "process: pod sandbox %q not found", id)
}

// container returns the container id or a NotFound error.
func (r *Runtime) container(id string) (*container, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.containers[id]; ok {
		return c, nil
	}
	return nil, status.Errorf(codes.NotFound, "process: container %q not found", id)
}
