package process

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// The on-disk records. The runtime writes sandbox.json and container.json;
// the supervisor writes state.json (and the runtime does, for a container
// that could not be started or whose supervisor was lost). Each file is replaced atomically (write to a
// temporary file, then rename), so a reader never sees half a record.

// sandboxRecord is a pod sandbox: metadata plus the pod's cgroup parent.
type sandboxRecord struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	Namespace      string            `json:"namespace"`
	UID            string            `json:"uid"`
	Attempt        uint32            `json:"attempt"`
	Labels         map[string]string `json:"labels,omitempty"`
	Annotations    map[string]string `json:"annotations,omitempty"`
	LogDirectory   string            `json:"logDirectory,omitempty"`
	RuntimeHandler string            `json:"runtimeHandler,omitempty"`
	CreatedAt      int64             `json:"createdAt"`
	Ready          bool              `json:"ready"`
	// Cgroups maps a cgroup v1 controller to the pod's directory in it.
	Cgroups map[string]string `json:"cgroups,omitempty"`
}

// mountSpec is one bind mount of a container.
type mountSpec struct {
	HostPath      string `json:"hostPath"`
	ContainerPath string `json:"containerPath"`
	Readonly      bool   `json:"readonly,omitempty"`
}

// resources are the cgroup limits of a container.
type resources struct {
	MemoryLimit int64 `json:"memoryLimit,omitempty"`
	CPUPeriod   int64 `json:"cpuPeriod,omitempty"`
	CPUQuota    int64 `json:"cpuQuota,omitempty"`
	CPUShares   int64 `json:"cpuShares,omitempty"`
	PidsLimit   int64 `json:"pidsLimit,omitempty"`
}

// containerRecord is everything CreateContainer was told, in the form the
// supervisor needs to start the container.
type containerRecord struct {
	ID          string            `json:"id"`
	SandboxID   string            `json:"sandboxID"`
	Name        string            `json:"name"`
	Attempt     uint32            `json:"attempt"`
	Image       string            `json:"image,omitempty"`
	Argv        []string          `json:"argv"`
	Env         []string          `json:"env,omitempty"`
	WorkingDir  string            `json:"workingDir,omitempty"`
	Mounts      []mountSpec       `json:"mounts,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	LogPath     string            `json:"logPath,omitempty"`
	Stdin       bool              `json:"stdin,omitempty"`
	StdinOnce   bool              `json:"stdinOnce,omitempty"`
	Tty         bool              `json:"tty,omitempty"`
	StopSignal  string            `json:"stopSignal,omitempty"`
	Resources   resources         `json:"resources"`
	OOMScoreAdj int64             `json:"oomScoreAdj,omitempty"`
	User        *credential       `json:"user,omitempty"`
	Cgroups     map[string]string `json:"cgroups,omitempty"`
	LogMaxSize  int64             `json:"logMaxSize"`
	LogMaxFiles int               `json:"logMaxFiles"`
	CreatedAt   int64             `json:"createdAt"`
}

// credential is the user a container runs as, when it asked for one.
type credential struct {
	UID    uint32   `json:"uid"`
	GID    uint32   `json:"gid"`
	Groups []uint32 `json:"groups,omitempty"`
}

// containerState is what the supervisor records about the container's
// process. A container without a state file has not been started.
type containerState struct {
	// BootID is the kernel's boot id when the container started: after a
	// reboot the pids below name other processes, if any.
	BootID string `json:"bootID,omitempty"`
	// SupervisorPID and SupervisorStart name the supervisor that started
	// the container and records its end.
	SupervisorPID   int    `json:"supervisorPID,omitempty"`
	SupervisorStart uint64 `json:"supervisorStart,omitempty"`
	PID             int    `json:"pid,omitempty"`
	PIDStart        uint64 `json:"pidStart,omitempty"`
	StartedAt       int64  `json:"startedAt,omitempty"`
	FinishedAt      int64  `json:"finishedAt,omitempty"`
	ExitCode        int32  `json:"exitCode"`
	Reason          string `json:"reason,omitempty"`
	Message         string `json:"message,omitempty"`
}

// Names of the files in the state directory and in a sandbox's or
// container's directory.
const (
	supervisorSocket = "supervisor.sock"
	supervisorLock   = "supervisor.lock"
	supervisorLog    = "supervisor.log"
	sandboxFile      = "sandbox.json"
	containerFile    = "container.json"
	stateFile        = "state.json"
)

// validID reports whether id has the form newID gives ids.
func validID(id string) bool {
	if len(id) != 64 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// newID returns a random 64-character hexadecimal id, like CRI runtimes use.
func newID() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("process: make id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// writeJSON replaces path with v encoded as JSON, atomically.
func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("process: encode %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("process: write %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := firstError(werr, serr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("process: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("process: write %s: %w", path, err)
	}
	return nil
}

// readJSON decodes the JSON file at path into v.
func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("process: decode %s: %w", path, err)
	}
	return nil
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
