package process

import (
	"os"
	"syscall"
)

// Helper modes. The process runtime runs its supervisor (SupervisorMain),
// which outlives the agent, as a separate process by re-executing its own
// binary (/proc/self/exe) with the environment variable HelperEnv set to
// ModeSupervisor. A binary that embeds the process runtime must dispatch
// that mode at the very start of main, before parsing flags (cmd/skiff
// does, in reexec.go); a test binary does the same in TestMain.
const (
	HelperEnv      = "SKIFF_PROCESS_HELPER"
	ModeSupervisor = "supervisor"
)

// HelperMode returns the helper mode this process was started in, or "".
func HelperMode() string {
	return os.Getenv(HelperEnv)
}

// self is the binary re-executed for the supervisor: the running one,
// whatever has become of its file on disk. Tests may point it elsewhere.
var self = "/proc/self/exe"

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
