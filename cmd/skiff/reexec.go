package main

import "skiff.dev/internal/runtime/process"

// reexec runs a helper mode of the process runtime when the binary was
// started as one (the runtime re-executes /proc/self/exe with
// process.HelperEnv set, for the supervisor of its containers and for the
// init step before a container's command). Those modes never return; in a
// normal start reexec returns at once. It must run before anything else in
// main: a helper is not the skiff command line.
func reexec() {
	switch process.HelperMode() {
	case process.ModeSupervisor:
		process.SupervisorMain()
	case process.ModeInit:
		process.InitMain()
	}
}
