package process

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// Helper modes. The process runtime runs parts of itself as separate
// processes by re-executing its own binary (/proc/self/exe) with the
// environment variable HelperEnv set to a mode:
//
//   - ModeSupervisor: the supervisor of a state directory's containers
//     (SupervisorMain), which outlives the agent;
//   - ModeInit: the init step before a user command (InitMain).
//
// A binary that embeds the process runtime must dispatch these modes at the
// very start of main, before parsing flags (cmd/skiff does, in reexec.go);
// a test binary does the same in TestMain.
const (
	HelperEnv      = "SKIFF_PROCESS_HELPER"
	ModeSupervisor = "supervisor"
	ModeInit       = "init"
)

// HelperMode returns the helper mode this process was started in, or "".
func HelperMode() string {
	return os.Getenv(HelperEnv)
}

// self is the binary re-executed for the helper modes: the running one,
// whatever has become of its file on disk. Tests may point it elsewhere.
var self = "/proc/self/exe"

// initIO is how the init step's command is wired.
type initIO struct {
	stdin, stdout, stderr *os.File // nil: /dev/null
	tty                   bool     // stdin is a terminal to become the controlling one
	newMountNS            bool     // start in a new mount namespace
}

// initError is the init step's report that the command could not be run.
type initError struct{ msg string }

func (e *initError) Error() string { return e.msg }

// initProcess is an init step that has started and waits for its spec.
type initProcess struct {
	proc *os.Process
	spec *os.File // the write end of the spec pipe
	sync *os.File // the read end of the sync pipe
}

// spawnInit starts the init step, wired as wiring; handOver then gives it
// its spec. It never waits for the process: the supervisor reaps its
// children with a wait4 loop of its own, which a Wait here would race.
func spawnInit(wiring initIO) (*initProcess, error) {
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("process: start: %w", err)
	}
	defer devNull.Close()
	specR, specW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("process: start: %w", err)
	}
	defer specR.Close()
	syncR, syncW, err := os.Pipe()
	if err != nil {
		specW.Close()
		return nil, fmt.Errorf("process: start: %w", err)
	}
	defer syncW.Close()
	attr := &syscall.SysProcAttr{Setsid: true}
	if wiring.tty {
		attr.Setctty = true
		attr.Ctty = 0
	}
	if wiring.newMountNS {
		attr.Unshareflags = syscall.CLONE_NEWNS
	}
	orNull := func(f *os.File) *os.File {
		if f == nil {
			return devNull
		}
		return f
	}
	proc, err := os.StartProcess(self, []string{"skiff-init"}, &os.ProcAttr{
		Env:   []string{HelperEnv + "=" + ModeInit},
		Files: []*os.File{orNull(wiring.stdin), orNull(wiring.stdout), orNull(wiring.stderr), specR, syncW},
		Sys:   attr,
	})
	if err != nil {
		specW.Close()
		syncR.Close()
		return nil, fmt.Errorf("process: start: %w", err)
	}
	return &initProcess{proc: proc, spec: specW, sync: syncR}, nil
}

// handOver sends spec to the init step and returns once the command runs
// (the init step has exec'd) or failed to. On an *initError the process
// has started and will exit by itself with 126 or 127; the caller reaps it.
func (p *initProcess) handOver(spec initSpec) error {
	werr := json.NewEncoder(p.spec).Encode(spec)
	p.spec.Close()
	msg, rerr := io.ReadAll(p.sync)
	p.sync.Close()
	switch {
	case len(msg) > 0:
		return &initError{msg: string(msg)}
	case werr != nil, rerr != nil:
		p.proc.Kill()
		return &initError{msg: fmt.Sprintf("process: start: %v", errors.Join(werr, rerr))}
	}
	return nil
}

// startInit runs the init step for spec: spawnInit and handOver in one.
func startInit(spec initSpec, wiring initIO) (*os.Process, error) {
	p, err := spawnInit(wiring)
	if err != nil {
		return nil, err
	}
	return p.proc, p.handOver(spec)
}

// exitCode turns a wait status into a container exit code: the code of a
// process that exited, 128+n for one killed by signal n.
func exitCode(ws syscall.WaitStatus) int32 {
	switch {
	case ws.Exited():
		return int32(ws.ExitStatus())
	case ws.Signaled():
		return 128 + int32(ws.Signal())
	}
	return 255
}
