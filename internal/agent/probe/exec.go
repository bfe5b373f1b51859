package probe

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	utilexec "k8s.io/utils/exec"
)

// exec runs an exec probe: exit 0 is Success, any other exit is Failure
// with the command's output (stdout then stderr), and running past the
// timeout is Failure with the kubelet's `command "…" timed out`.
func (p *Prober) exec(ctx context.Context, containerID string, cmd []string, timeout time.Duration) (Result, string, error) {
	if p.Exec == nil {
		return Unknown, "", errors.New("probe: exec probe: no Execer")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stdout, stderr, err := p.Exec.ExecSync(ctx, containerID, cmd, timeout)
	output := string(stdout) + string(stderr)
	if err == nil {
		return Success, output, nil
	}
	if exit, ok := errors.AsType[utilexec.ExitError](err); ok {
		if exit.ExitStatus() == 0 {
			return Success, output, nil
		}
		return Failure, output, nil
	}
	if timedOut(ctx, err) {
		return Failure, fmt.Sprintf("command %q timed out", strings.Join(cmd, " ")), nil
	}
	return Unknown, "", fmt.Errorf("probe: exec probe: %w", err)
}

// timedOut reports whether err means the deadline of ctx passed: the
// context's own error, or a runtime's gRPC DeadlineExceeded status.
func timedOut(ctx context.Context, err error) bool {
	return errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(ctx.Err(), context.DeadlineExceeded) ||
		status.Code(err) == codes.DeadlineExceeded
}
