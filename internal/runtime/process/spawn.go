package process

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Starting a command in a container. The container's main process (which
// the supervisor starts) and the commands of ExecSync and Exec (which the
// runtime starts) must begin in the container's cgroups and mount
// namespace: its limits hold, and its volumes are in place, from the
// command's first instruction. A runtime usually gets there through an init
// process that sets itself up and then execs the command; for skiff that
// would be a re-exec of its own binary, some 50 ms of CPU per start in
// package initialisers alone.
//
// spawn does without: cgroup v1 membership and the mount namespace belong
// to a thread, and a child starts in those of the thread that forked it. So
// spawn takes an OS thread of the calling process for itself
// (onOwnThread) and, on it:
//
//  1. for a container with volumes, unshares the mount namespace (which
//     gives the thread its own root and working directory too) and binds
//     the volumes there (setupMounts); for a command run in a running
//     container, enters the mount namespace of its main process instead;
//  2. looks up the working directory and the command, in that view;
//  3. joins the container's cgroups, writing the thread's id to each
//     controller's tasks file;
//  4. forks and execs the command (os.StartProcess), which in the child
//     starts a session, takes the container's user and groups and changes
//     to the working directory;
//  5. moves the thread back to its own cgroups, and ends the goroutine
//     without unlocking it, so that Go ends the thread: a thread that
//     changed its namespace or cgroups is never used again.
//
// While the thread is in the container's cgroups, what it costs is the
// container's: CPU time, a task in the pids count (below), and the kernel
// objects allocated for its work, the new process's task and kernel stack
// among them. User pages and page cache, though, are charged to the memory
// cgroup of the process's main thread (the owner of its address space),
// whichever thread touches them: nothing of the runtime's own memory is
// charged to a container, provided the thread is not the main thread,
// which onOwnThread sees to (TestNothingOfTheRuntimeIsChargedToAContainer).
// The thread still joins the cgroups last and leaves them right after the
// fork, the memory cgroup innermost (joinCgroups), so that it does as
// little as it can there.
//
// The pids controller counts the thread as well while it is there: a
// command starts only if its pod has room for two more tasks, the thread
// and the command, where the command alone will remain.
//
// oom_score_adj belongs to a process, not a thread (setting the thread's
// would set the whole runtime's): spawn writes the child's once its exec
// has returned. Until then the command has its parent's score.

// spawnSpec is a command to start in a container.
type spawnSpec struct {
	argv        []string
	env         []string
	dir         string            // the working directory; "" is /
	cgroups     map[string]string // controller → cgroup v1 directory to start in
	oomScoreAdj int64             // applied when positive
	mounts      []mountSpec       // volumes, in a new mount namespace
	mountsOf    *procRef          // or: the mount namespace of this process
	user        *credential       // nil: the caller's
}

// procRef names a process by its pid and start time (see proc.go).
type procRef struct {
	pid   int
	start uint64
}

// commandIO is how a command is wired; a nil file is /dev/null.
type commandIO struct {
	stdin, stdout, stderr *os.File
	tty                   bool // stdin is a terminal, to become the controlling one
}

// startError says why a command could not be run, with the exit code a
// shell gives such a command.
type startError struct {
	code int32
	err  error
}

func (e *startError) Error() string { return e.err.Error() }
func (e *startError) Unwrap() error { return e.err }

// Exit codes of a command that could not be run, as a shell uses them.
const (
	exitCannotRun = 126
	exitNotFound  = 127
)

// defaultPath is the PATH a container gets when its config sets none (the
// same default as runc and Docker).
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// spawn starts spec's command and returns once it runs (has been exec'd) or
// could not be started, with a *startError then. It never waits for the
// process: the supervisor reaps its children with a wait4 loop of its own.
// One case returns both a process and an error: the command ran but its
// oom_score_adj could not be set, so it was killed, and the caller reaps it.
func spawn(spec spawnSpec, cio commandIO) (*os.Process, error) {
	if len(spec.argv) == 0 {
		return nil, &startError{exitCannotRun, errors.New("process: no command")}
	}
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("process: start: %w", err)
	}
	defer devNull.Close()
	orNull := func(f *os.File) *os.File {
		if f == nil {
			return devNull
		}
		return f
	}
	sys := &syscall.SysProcAttr{Setsid: true, Setctty: cio.tty, Ctty: 0}
	if u := spec.user; u != nil {
		sys.Credential = &syscall.Credential{Uid: u.UID, Gid: u.GID, Groups: u.Groups}
	}
	attr := &os.ProcAttr{
		Dir:   cmp.Or(spec.dir, "/"),
		Env:   spec.env,
		Files: []*os.File{orNull(cio.stdin), orNull(cio.stdout), orNull(cio.stderr)},
		Sys:   sys,
	}
	var proc *os.Process
	if spec.cgroups == nil && spec.mounts == nil && spec.mountsOf == nil {
		// Nothing to change in the thread: fork from any.
		var path string
		if path, err = find(spec, attr.Dir); err == nil {
			proc, err = startProcess(path, spec.argv, attr)
		}
	} else {
		onOwnThread(func() { proc, err = setUpAndStart(spec, attr) })
	}
	if err != nil {
		return nil, err
	}
	if err := setOOMScoreAdj(proc.Pid, spec.oomScoreAdj); err != nil {
		syscall.Kill(-proc.Pid, syscall.SIGKILL)
		return proc, &startError{exitCannotRun, err}
	}
	return proc, nil
}

// setUpAndStart puts the calling thread, which it changes for good, into
// the container's mount namespace and cgroups, and starts the command.
func setUpAndStart(spec spawnSpec, attr *os.ProcAttr) (*os.Process, error) {
	var err error
	switch {
	case len(spec.mounts) > 0:
		err = newMountNamespace(spec.mounts)
	case spec.mountsOf != nil:
		err = enterMountNamespace(*spec.mountsOf)
	}
	if err != nil {
		return nil, &startError{exitCannotRun, err}
	}
	path, err := find(spec, attr.Dir)
	if err != nil {
		return nil, err
	}
	leave, err := joinCgroups(spec.cgroups)
	if err != nil {
		return nil, &startError{exitCannotRun, err}
	}
	proc, err := startProcess(path, spec.argv, attr)
	leave()
	return proc, err
}

// find checks the working directory dir and finds the command, as the
// calling thread sees the filesystem.
func find(spec spawnSpec, dir string) (string, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		if err == nil {
			err = syscall.ENOTDIR
		}
		return "", &startError{exitCannotRun, fmt.Errorf("process: working directory %s: %w", dir, err)}
	}
	path, err := lookPath(spec.argv[0], spec.env, dir)
	if err != nil {
		return "", &startError{exitNotFound, err}
	}
	return path, nil
}

// startProcess forks and execs path from the calling thread.
func startProcess(path string, argv []string, attr *os.ProcAttr) (*os.Process, error) {
	proc, err := os.StartProcess(path, argv, attr)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		code := int32(exitCannotRun)
		if errors.Is(err, syscall.ENOENT) {
			code = exitNotFound
		}
		return nil, &startError{code, fmt.Errorf("process: exec %q: %w", argv[0], err)}
	}
	return proc, nil
}

// lookPath finds name in the PATH of the command's own environment. A
// relative directory in PATH is taken from the command's working directory
// dir, as the kernel will once the command has changed to it.
func lookPath(name string, env []string, dir string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	path := defaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, d := range filepath.SplitList(path) {
		p := filepath.Join(cmp.Or(d, "."), name)
		abs := p
		if !filepath.IsAbs(p) {
			abs = filepath.Join(dir, p)
		}
		if st, err := os.Stat(abs); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("process: exec %q: %w", name, exec.ErrNotFound)
}

// setOOMScoreAdj raises the OOM score of the running process pid. Raising
// it needs no privilege; lowering it would need CAP_SYS_RESOURCE, so the
// runtime never asks for that. A process that has already ended is left
// alone.
func setOOMScoreAdj(pid int, adj int64) error {
	if adj <= 0 {
		return nil
	}
	err := os.WriteFile("/proc/"+strconv.Itoa(pid)+"/oom_score_adj", []byte(strconv.FormatInt(adj, 10)), 0)
	if err != nil && !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("process: set oom_score_adj: %w", err)
	}
	return nil
}

// onOwnThread runs fn on an OS thread that ends with it, and returns once
// fn has. fn may change what is per thread (namespaces, cgroups, root,
// working directory): Go runs nothing else on the thread meanwhile, and
// ends it after, since the goroutine ends locked to it. The main thread is
// never used: Go cannot end it and would keep it, changed; and the memory
// cgroup of the main thread is the one the whole process's memory is
// charged to.
func onOwnThread(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			// Hold the main thread while another goroutine, on another
			// thread therefore, runs fn; then give the main thread back.
			onOwnThread(fn)
			runtime.UnlockOSThread()
			return
		}
		fn()
	}()
	<-done
}
