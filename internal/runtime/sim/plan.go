package sim

import (
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The annotations that script a hollow container (see the package doc).
const (
	AnnotationExitCode = "sim.skiff.dev/exit-code"
	AnnotationRunFor   = "sim.skiff.dev/run-for"
)

// plan is how a container ends on its own, if it does.
type plan struct {
	exits    bool
	exitCode int32
	runFor   time.Duration
}

// planFor reads a container's plan from its annotations and its pod's.
func planFor(name string, containerAnnotations, podAnnotations map[string]string) (plan, error) {
	lookup := func(key string) (string, bool) {
		if v, ok := containerAnnotations[key]; ok {
			return v, true
		}
		if v, ok := podAnnotations[key+"."+name]; ok {
			return v, true
		}
		v, ok := podAnnotations[key]
		return v, ok
	}
	var p plan
	if v, ok := lookup(AnnotationExitCode); ok {
		code, err := strconv.ParseInt(v, 10, 32)
		if err != nil || code < 0 || code > 255 {
			return plan{}, status.Errorf(codes.InvalidArgument, "sim: container %q: %s is %q, want an exit code from 0 to 255", name, AnnotationExitCode, v)
		}
		p.exits, p.exitCode = true, int32(code)
	}
	if v, ok := lookup(AnnotationRunFor); ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return plan{}, status.Errorf(codes.InvalidArgument, "sim: container %q: %s is %q, want a duration such as 2s", name, AnnotationRunFor, v)
		}
		p.exits, p.runFor = true, d
	}
	return p, nil
}
