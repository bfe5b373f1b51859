package process

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// The init step is the process runtime's last word before a user command
// runs: a re-exec of the skiff binary (helper mode "init") that puts itself
// into the container's cgroups, sets up its mounts, changes user and
// directory, and then replaces itself with the command (execve). Doing this
// before exec means the command never runs outside its limits or with the
// wrong view of the filesystem. Both the container's main process (started
// by the supervisor) and ExecSync/Exec commands go through it.
//
// The parent passes an initSpec as JSON on fd 3 and reads fd 4 until EOF.
// fd 4 is close-on-exec: EOF with no data means the command is running; text
// means the init step failed, and the helper then exits with 126 or 127, as
// a shell would for a command it cannot run.

// initSpec is what the init step does, in order.
type initSpec struct {
	Argv        []string    `json:"argv"`
	Env         []string    `json:"env"`
	Dir         string      `json:"dir,omitempty"`
	Cgroups     []string    `json:"cgroups,omitempty"`     // cgroup directories to join
	OOMScoreAdj int64       `json:"oomScoreAdj,omitempty"` // raised only, never lowered
	Mounts      []mountSpec `json:"mounts,omitempty"`      // in a fresh mount namespace
	Root        string      `json:"root,omitempty"`        // chroot here before the rest
	User        *credential `json:"user,omitempty"`
}

// Exit codes of a failed init step, as a shell uses them.
const (
	exitCannotRun = 126
	exitNotFound  = 127
)

// The file descriptors of the init step's pipes.
const (
	initSpecFD = 3
	initSyncFD = 4
)

// InitMain runs the init step. It never returns.
func InitMain() {
	spec := os.NewFile(initSpecFD, "spec")
	sync := os.NewFile(initSyncFD, "sync")
	code, err := runInit(spec, sync)
	// runInit returns only on failure.
	fmt.Fprint(sync, err.Error())
	os.Exit(code)
}

func runInit(specFile, sync *os.File) (int, error) {
	var spec initSpec
	data, err := io.ReadAll(specFile)
	specFile.Close()
	if err != nil {
		return exitCannotRun, fmt.Errorf("process: init: read spec: %w", err)
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		return exitCannotRun, fmt.Errorf("process: init: decode spec: %w", err)
	}
	syscall.CloseOnExec(int(sync.Fd()))
	if len(spec.Argv) == 0 {
		return exitCannotRun, errors.New("process: init: no command")
	}
	if err := joinCgroups(spec.Cgroups, os.Getpid()); err != nil {
		return exitCannotRun, err
	}
	if spec.OOMScoreAdj > 0 {
		// Raising the score needs no privilege; lowering it would need
		// CAP_SYS_RESOURCE, so the runtime never asks for that.
		if err := os.WriteFile("/proc/self/oom_score_adj", []byte(strconv.FormatInt(spec.OOMScoreAdj, 10)), 0); err != nil {
			return exitCannotRun, fmt.Errorf("process: init: set oom_score_adj: %w", err)
		}
	}
	if len(spec.Mounts) > 0 {
		if err := setupMounts(spec.Mounts); err != nil {
			return exitCannotRun, err
		}
	}
	if spec.Root != "" {
		if err := syscall.Chroot(spec.Root); err != nil {
			return exitCannotRun, fmt.Errorf("process: init: enter the container's mount namespace: %w", err)
		}
	}
	if u := spec.User; u != nil {
		if err := setUser(u); err != nil {
			return exitCannotRun, err
		}
	}
	dir := spec.Dir
	if dir == "" {
		dir = "/"
	}
	if err := os.Chdir(dir); err != nil {
		return exitCannotRun, fmt.Errorf("process: init: working directory: %w", err)
	}
	path, err := lookPath(spec.Argv[0], spec.Env)
	if err != nil {
		return exitNotFound, err
	}
	err = syscall.Exec(path, spec.Argv, spec.Env)
	code := exitCannotRun
	if errors.Is(err, syscall.ENOENT) {
		code = exitNotFound
	}
	return code, fmt.Errorf("process: exec %q: %w", spec.Argv[0], err)
}

// lookPath finds name in the PATH of the command's own environment.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	path := defaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("process: exec %q: %w", name, exec.ErrNotFound)
}

// defaultPath is the PATH a container gets when its config sets none (the
// same default as runc and Docker).
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// setUser switches to the container's user and groups.
func setUser(u *credential) error {
	groups := make([]int, len(u.Groups))
	for i, g := range u.Groups {
		groups[i] = int(g)
	}
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("process: init: set groups: %w", err)
	}
	if err := syscall.Setgid(int(u.GID)); err != nil {
		return fmt.Errorf("process: init: set group %d: %w", u.GID, err)
	}
	if err := syscall.Setuid(int(u.UID)); err != nil {
		return fmt.Errorf("process: init: set user %d: %w", u.UID, err)
	}
	return nil
}
