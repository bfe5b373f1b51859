package main

import "skiff.dev/internal/runtime/process"

// reexec runs the process runtime's supervisor when the binary was started
// as one (the runtime re-executes /proc/self/exe with process.HelperEnv
// set to start the supervisor of its containers). That mode never returns;
// in a normal start reexec returns at once. It must run before anything
// else in main: a helper is not the skiff command line.
func reexec() {
	if process.HelperMode() == process.ModeSupervisor {
		process.SupervisorMain()
	}
}
