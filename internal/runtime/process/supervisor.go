package process

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"skiff.dev/internal/pageout"
)

// The supervisor. One supervisor process serves a state directory: it is
// the parent of every container process the runtime starts there, copies
// their output into the CRI logs, serves attach, and records each exit in
// the container's state.json (see task.go). It runs in a session of its
// own, so it outlives the agent that started it, the way containerd
// outlives its clients.
//
// One per directory: the supervisor holds an exclusive flock on
// <Dir>/supervisor.lock for its whole life, and only the holder removes and
// listens on <Dir>/supervisor.sock. A second supervisor started for the
// same directory (two runtimes that found no supervisor at once) finds the
// lock taken, reports "busy" and exits; its runtime then connects to the
// first. A socket file left by a supervisor that was killed is stale: the
// next one, holding the lock, removes it.
//
// The supervisor is a child subreaper: processes that a container orphans
// are reparented to it, not to the host's init, and one reaper loop
// (wait4(-1)) reaps every child and hands the exit status of a container's
// main process to its task. Nothing else in the supervisor waits for a
// process.
//
// It exits when it has no container to supervise and no connection open,
// for idleGrace: an agent holds a session connection while its Runtime is
// open, and a container keeps the supervisor as long as it runs. When the
// last Runtime closes (ends its session) and no container runs, it exits at
// once, before Close returns.

// supervisorReadyFD is the fd on which the supervisor reports "ok", "busy"
// or why it failed.
const supervisorReadyFD = 3

// idleGrace is how long an idle supervisor waits before it exits.
const idleGrace = time.Second

// errBusy reports that another supervisor holds the directory.
var errBusy = errors.New("process: supervisor: another supervisor serves this directory")

// SupervisorMain runs the supervisor of the state directory os.Args[1]. It
// never returns.
func SupervisorMain() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "process: supervisor: no state directory")
		os.Exit(2)
	}
	ready := os.NewFile(supervisorReadyFD, "ready")
	s, err := newSupervisor(os.Args[1])
	switch {
	case errors.Is(err, errBusy):
		fmt.Fprint(ready, "busy")
		os.Exit(0)
	case err != nil:
		fmt.Fprint(ready, err.Error())
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprint(ready, "ok")
	ready.Close()
	// The supervisor is long-lived and small: hand back to the system what
	// the binary's start-up (every package's init) left as garbage, and
	// collect more often than the default, since its live heap is mostly
	// that start-up's tables.
	debug.SetGCPercent(supervisorGCPercent)
	debug.FreeOSMemory()
	// Likewise the pages of the binary that only start-up touched.
	_, _ = pageout.Executable()
	s.serve()
}

// supervisorGCPercent is the supervisor's GOGC.
const supervisorGCPercent = 50

// supervisor is the state of the supervisor process.
type supervisor struct {
	dir      string
	pid      int
	start    uint64 // the supervisor's start time, see procStart
	lock     *os.File
	listener *net.UnixListener
	// childStarted wakes the reaper when it has found no child to wait for.
	childStarted chan struct{}
	// forks is held to read by each start from before its fork until the
	// pid is registered, and taken by the reaper before it looks a pid up.
	forks sync.RWMutex

	mu    sync.Mutex
	tasks map[string]*task // by container id: starting, running and ending
	byPID map[int]*task    // running main processes, until reaped
	conns int              // open connections
	idle  *time.Timer      // armed while idle
}

// newSupervisor takes the directory's lock and listens on its socket.
func newSupervisor(dir string) (*supervisor, error) {
	s := &supervisor{
		dir:          dir,
		pid:          os.Getpid(),
		childStarted: make(chan struct{}, 1),
		tasks:        map[string]*task{},
		byPID:        map[int]*task{},
	}
	var err error
	if s.start, _, err = procStart(s.pid); err != nil {
		return nil, err
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("process: supervisor: become subreaper: %w", err)
	}
	// Catch (not ignore) hangups and interrupts: ignored signals would stay
	// ignored in the containers, caught ones are reset when they exec.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGHUP, syscall.SIGINT)

	s.lock, err = os.OpenFile(filepath.Join(dir, supervisorLock), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("process: supervisor: %w", err)
	}
	if err := unix.Flock(int(s.lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		s.lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, errBusy
		}
		return nil, fmt.Errorf("process: supervisor: lock %s: %w", dir, err)
	}
	// Holding the lock, any socket file is a dead supervisor's.
	sock := filepath.Join(dir, supervisorSocket)
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("process: supervisor: remove stale socket: %w", err)
	}
	if s.listener, err = listenUnix(dir, supervisorSocket); err != nil {
		return nil, err
	}
	// The socket reaches the containers' stdin: the owner only.
	if err := os.Chmod(sock, 0o600); err != nil {
		return nil, fmt.Errorf("process: supervisor: %w", err)
	}
	return s, nil
}

// serve runs the reaper and answers connections. It never returns.
func (s *supervisor) serve() {
	go s.reap()
	s.mu.Lock()
	s.checkIdle()
	s.mu.Unlock()
	for {
		conn, err := s.listener.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "process: supervisor: accept:", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		s.mu.Lock()
		s.conns++
		s.mu.Unlock()
		go func() {
			s.handle(conn)
			conn.Close()
			s.mu.Lock()
			s.conns--
			s.checkIdle()
			s.mu.Unlock()
		}()
	}
}

// checkIdle arms the idle timer when nothing is left to do; s.mu is held.
func (s *supervisor) checkIdle() {
	if len(s.tasks) == 0 && s.conns == 0 && s.idle == nil {
		s.idle = time.AfterFunc(idleGrace, s.exitIfIdle)
	}
}

// exitIfIdle exits if the supervisor is still idle. Connections waiting
// to be accepted are refused when the listener closes; their runtimes,
// without a greeting, start another supervisor.
func (s *supervisor) exitIfIdle() {
	s.mu.Lock()
	s.idle = nil
	if len(s.tasks) > 0 || s.conns > 0 {
		s.mu.Unlock()
		return
	}
	s.exit()
}

// exit closes the socket and exits; s.mu is held, so that no request can
// start anything meanwhile. The lock goes with the process.
func (s *supervisor) exit() {
	s.listener.Close()
	os.Remove(filepath.Join(s.dir, supervisorSocket))
	os.Exit(0)
}

// reap reaps every child of the supervisor, and hands the exit status of a
// container's main process to its task.
func (s *supervisor) reap() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.ECHILD):
			<-s.childStarted
			continue
		case err != nil:
			fmt.Fprintln(os.Stderr, "process: supervisor: wait:", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		// Once no start is between its fork and the registration of its
		// pid, a container's pid is known.
		s.forks.Lock()
		s.forks.Unlock()
		s.mu.Lock()
		t := s.byPID[pid]
		delete(s.byPID, pid)
		s.mu.Unlock()
		if t != nil {
			go s.finish(t, ws)
		}
	}
}

// handle answers one connection.
func (s *supervisor) handle(conn net.Conn) {
	if err := writeMessage(conn, frameGreeting, greeting{PID: s.pid}); err != nil {
		return
	}
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var req request
	if err := readMessage(conn, frameRequest, &req); err != nil {
		return
	}
	conn.SetReadDeadline(time.Time{})
	var ans answer
	switch req.Op {
	case opSession:
		if writeMessage(conn, frameAnswer, ans) != nil {
			return
		}
		// Held until the runtime closes it or ends it.
		var end request
		if readMessage(conn, frameRequest, &end) != nil || end.Op != opEnd {
			return
		}
		s.mu.Lock()
		if len(s.tasks) == 0 && s.conns == 1 {
			writeMessage(conn, frameAnswer, answer{Exiting: true})
			s.exit()
		}
		s.mu.Unlock()
		writeMessage(conn, frameAnswer, ans)
		return
	case opStart:
		if err := s.startTask(req.Container); err != nil {
			ans.Error = err.Error()
		}
	case opSignal:
		ans.Found = s.signal(req.Container, syscall.Signal(req.Signal))
	case opAttach:
		t := s.running(req.Container)
		if t == nil {
			ans.Error = fmt.Sprintf("process: supervisor: container %s is not running here", req.Container)
			break
		}
		if writeMessage(conn, frameAnswer, ans) == nil {
			t.attach.serve(conn, req)
		}
		return
	default:
		ans.Error = fmt.Sprintf("process: supervisor: unknown operation %q", req.Op)
	}
	writeMessage(conn, frameAnswer, ans)
}

// running returns the task of container id if its process runs.
func (s *supervisor) running(id string) *task {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tasks[id]; t != nil && s.byPID[t.pid] == t {
		return t
	}
	return nil
}

// signal sends sig to the process group of container id, if it runs here.
// The check and the kill happen under s.mu, which the reaper takes as soon
// as wait4 returns: a group is not signalled once its leader is known to be
// reaped, which leaves only that instant for its pid to be reused.
func (s *supervisor) signal(id string, sig syscall.Signal) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tasks[id]
	if t == nil || s.byPID[t.pid] != t {
		return false
	}
	if err := syscall.Kill(-t.pid, sig); err != nil {
		syscall.Kill(t.pid, sig)
	}
	return true
}
