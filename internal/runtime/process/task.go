package process

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// A task is the supervisor's side of one running container. From the
// start request to the record of its end, the supervisor:
//
//   - starts the command in the container's cgroups and mount namespace
//     (spawn), wired to pipes (or a terminal) whose other ends it keeps;
//   - copies stdout and stderr into the container's CRI log file and to
//     attached clients;
//   - when the reaper hands it the main process's exit status, kills what
//     the command left behind in its process group and cgroups (the
//     container is its main process, as in a pid namespace), and records
//     the exit code, the time and the reason (OOMKilled, Completed, Error)
//     in state.json.
//
// Per container that is a few small structs, one goroutine per output
// stream and a pipe per stream; read buffers are borrowed from a pool only
// while data is being copied.
type task struct {
	id, dir string
	rec     containerRecord
	pid     int
	pidAt   uint64 // the main process's start time
	started time.Time
	log     *logFile
	outputs []output
	attach  attachServer
	copying sync.WaitGroup
	// ready is closed once the start has succeeded or failed (startErr).
	ready    chan struct{}
	startErr error
}

// output is one stream the supervisor copies from the command.
type output struct {
	r      *os.File
	stream string
	kind   byte
}

// startTask starts container id and returns once its command runs, or why
// it could not be run (which it records, as containerd does: exited, with
// code 128 and reason StartError).
func (s *supervisor) startTask(id string) error {
	if !validID(id) {
		return fmt.Errorf("process: supervisor: %q is not a container id", id)
	}
	t := &task{id: id, dir: filepath.Join(s.dir, "containers", id), ready: make(chan struct{})}
	s.mu.Lock()
	if s.tasks[id] != nil {
		s.mu.Unlock()
		return fmt.Errorf("process: supervisor: container %s is already running", id)
	}
	// Never twice: a container with a state file has been started before.
	if _, err := os.Lstat(filepath.Join(t.dir, stateFile)); !errors.Is(err, os.ErrNotExist) {
		s.mu.Unlock()
		return fmt.Errorf("process: supervisor: container %s has been started before", id)
	}
	s.tasks[id] = t
	s.mu.Unlock()

	err := s.launch(t)
	if err != nil {
		t.startErr = err
		t.record(containerState{FinishedAt: time.Now().UnixNano(), ExitCode: 128, Reason: "StartError", Message: err.Error()})
	}
	close(t.ready)
	if err != nil && t.pid == 0 {
		// Nothing runs that the reaper would hand back.
		t.release()
		s.forget(t)
	}
	return err
}

// launch starts t's command and records it as running.
func (s *supervisor) launch(t *task) error {
	if err := readJSON(filepath.Join(t.dir, containerFile), &t.rec); err != nil {
		return err
	}
	t.attach.stdinOnce = t.rec.StdinOnce
	if t.rec.LogPath != "" {
		l, err := openLog(t.rec.LogPath, t.rec.LogMaxSize, t.rec.LogMaxFiles)
		if err != nil {
			return err
		}
		t.log = l
	}
	cio, childEnds, err := t.stdio()
	if err != nil {
		return err
	}
	// s.forks is held from before the fork until the pid is registered,
	// so the reaper cannot reap the process before it knows whose it is.
	s.forks.RLock()
	proc, err := spawn(spawnSpec{
		argv:        t.rec.Argv,
		env:         t.rec.Env,
		dir:         t.rec.WorkingDir,
		cgroups:     t.rec.Cgroups,
		oomScoreAdj: t.rec.OOMScoreAdj,
		mounts:      t.rec.Mounts,
		user:        t.rec.User,
	}, cio)
	if proc != nil {
		s.mu.Lock()
		t.pid = proc.Pid
		s.byPID[t.pid] = t
		s.mu.Unlock()
		// The supervisor never waits through os.Process: the reaper does.
		proc.Release()
	}
	s.forks.RUnlock()
	closeFiles(childEnds)
	if proc == nil {
		return err
	}
	select {
	case s.childStarted <- struct{}{}:
	default:
	}
	for _, o := range t.outputs {
		t.copying.Add(1)
		go t.copyOutput(o)
	}
	if err != nil {
		return err
	}
	t.started = time.Now()
	t.pidAt, _, _ = procStart(t.pid)
	st := containerState{
		BootID: bootID(), SupervisorPID: s.pid, SupervisorStart: s.start,
		PID: t.pid, PIDStart: t.pidAt, StartedAt: t.started.UnixNano(),
	}
	if err := t.record(st); err != nil {
		// Unrecorded, the command could not be found again: end it.
		syscall.Kill(-t.pid, syscall.SIGKILL)
		return err
	}
	return nil
}

// stdio makes the command's stdin, stdout and stderr: a terminal for a tty
// container, pipes otherwise. It returns the command's ends, which the
// supervisor closes once the command has them.
func (t *task) stdio() (commandIO, []*os.File, error) {
	if t.rec.Tty {
		master, slave, err := openTerminal()
		if err != nil {
			return commandIO{}, nil, err
		}
		t.outputs = []output{{r: master, stream: "stdout", kind: frameStdout}}
		t.attach.tty = master
		if t.rec.Stdin {
			t.attach.stdin = master
		}
		return commandIO{stdin: slave, stdout: slave, stderr: slave, tty: true}, []*os.File{slave}, nil
	}
	var ours, theirs []*os.File
	pipe := func() (r, w *os.File, err error) {
		if r, w, err = os.Pipe(); err != nil {
			closeFiles(ours)
			closeFiles(theirs)
			return nil, nil, fmt.Errorf("process: supervisor: %w", err)
		}
		return r, w, nil
	}
	outR, outW, err := pipe()
	if err != nil {
		return commandIO{}, nil, err
	}
	ours, theirs = append(ours, outR), append(theirs, outW)
	errR, errW, err := pipe()
	if err != nil {
		return commandIO{}, nil, err
	}
	ours, theirs = append(ours, errR), append(theirs, errW)
	t.outputs = []output{{outR, "stdout", frameStdout}, {errR, "stderr", frameStderr}}
	cio := commandIO{stdout: outW, stderr: errW}
	if t.rec.Stdin {
		inR, inW, err := pipe()
		if err != nil {
			return commandIO{}, nil, err
		}
		t.attach.stdin = inW
		cio.stdin = inR
		theirs = append(theirs, inR)
	}
	return cio, theirs, nil
}

// finish ends t once the reaper has reaped its main process.
func (s *supervisor) finish(t *task, ws syscall.WaitStatus) {
	<-t.ready
	finished := time.Now()
	// The container is its main process: what it leaves running dies
	// with it. (Its orphans are reparented to the supervisor and reaped.)
	syscall.Kill(-t.pid, syscall.SIGKILL)
	for _, dir := range t.rec.Cgroups {
		killCgroup(dir)
	}
	if !waitTimeout(&t.copying, 2*time.Second) {
		// Something outside the group still holds the pipes.
		for _, o := range t.outputs {
			o.r.Close()
		}
		t.copying.Wait()
	}
	if t.startErr == nil {
		st := containerState{
			BootID: bootID(), SupervisorPID: s.pid, SupervisorStart: s.start,
			PID: t.pid, PIDStart: t.pidAt, StartedAt: t.started.UnixNano(),
			FinishedAt: finished.UnixNano(), ExitCode: exitCode(ws),
		}
		switch {
		case t.rec.Cgroups["memory"] != "" && oomKills(t.rec.Cgroups["memory"]) > 0:
			st.Reason = "OOMKilled"
		case st.ExitCode == 0:
			st.Reason = "Completed"
		default:
			st.Reason = "Error"
		}
		if err := t.record(st); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	t.release()
	s.forget(t)
}

// release tells attached clients that the container ended and closes
// what the task holds.
func (t *task) release() {
	t.attach.finish()
	t.attach.closeStdin()
	for _, o := range t.outputs {
		o.r.Close()
	}
	if t.log != nil {
		t.log.Close()
	}
}

// forget drops t from the supervisor's tables.
func (s *supervisor) forget(t *task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tasks[t.id] == t {
		delete(s.tasks, t.id)
	}
	s.checkIdle()
}

// record writes the container's state file.
func (t *task) record(st containerState) error {
	return writeJSON(filepath.Join(t.dir, stateFile), st)
}

// readState reads the state file in a container's directory.
func readState(dir string) (containerState, error) {
	var st containerState
	err := readJSON(filepath.Join(dir, stateFile), &st)
	return st, err
}

// waitTimeout waits for wg, for at most d. It reports whether wg finished.
func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}
