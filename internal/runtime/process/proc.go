package process

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// A pid alone does not name a process for long: once the process is reaped
// the kernel may hand the number to another. A pid together with the
// process's start time (field 22 of /proc/<pid>/stat, in clock ticks since
// boot) does, so the runtime records both and checks both before it signals.

// procStart returns the start time of pid and whether it is a zombie.
func procStart(pid int) (start uint64, zombie bool, err error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false, err
	}
	// The command name (field 2) is in parentheses and may hold spaces, so
	// split after its closing parenthesis.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, false, fmt.Errorf("process: malformed /proc/%d/stat", pid)
	}
	fields := bytes.Fields(data[i+1:])
	// fields[0] is field 3 (state); field 22 is fields[19].
	if len(fields) < 20 {
		return 0, false, fmt.Errorf("process: short /proc/%d/stat", pid)
	}
	start, err = strconv.ParseUint(string(fields[19]), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("process: /proc/%d/stat: %w", pid, err)
	}
	return start, string(fields[0]) == "Z", nil
}

// bootID is the id of the running kernel's boot.
var bootID = sync.OnceValue(func() string {
	data, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(data))
})

// alive reports whether the process pid that started at start still runs
// (a zombie does not count).
func alive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	got, zombie, err := procStart(pid)
	return err == nil && !zombie && got == start
}

// signalGroup sends sig to the process group led by pid, if pid is still the
// process that started at start. It reports whether it sent the signal.
func signalGroup(pid int, start uint64, sig syscall.Signal) bool {
	if !alive(pid, start) {
		return false
	}
	if err := syscall.Kill(-pid, sig); err != nil {
		// The leader may not lead a group (it always does here, since
		// spawn starts it with setsid); signal the process itself then.
		return syscall.Kill(pid, sig) == nil
	}
	return true
}
