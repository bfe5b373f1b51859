package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// RunHook runs a postStart or preStop handler (exec, httpGet, sleep).
//
// On failure it returns the kubelet's message for the FailedPostStartHook /
// FailedPreStopHook event (for example `Exec lifecycle hook ([false]) for
// Container "app" in Pod "web_default(uid)" failed - error: …, message: ""`)
// and the error. ctx bounds the hook: the agent cancels it when the grace
// period ends. An httpGet hook succeeds on any HTTP response — like the
// kubelet, only a request that gets no response fails.
func (p *Prober) RunHook(ctx context.Context, pod *corev1.Pod, c *corev1.Container, containerID string, h *corev1.LifecycleHandler) (string, error) {
	switch {
	case h.Exec != nil:
		if p.Exec == nil {
			err := errors.New("probe: exec hook: no Execer")
			return "Cannot run handler: " + err.Error(), err
		}
		stdout, stderr, err := p.Exec.ExecSync(ctx, containerID, h.Exec.Command, 0)
		if err != nil {
			msg := fmt.Sprintf("Exec lifecycle hook (%v) for Container %q in Pod %q failed - error: %v, message: %q",
				h.Exec.Command, c.Name, podDesc(pod), err, string(stdout)+string(stderr))
			return msg, fmt.Errorf("probe: exec hook: %w", err)
		}
		return "", nil
	case h.HTTPGet != nil:
		if err := httpHook(ctx, pod, c, h.HTTPGet); err != nil {
			msg := fmt.Sprintf("HTTP lifecycle hook (%s) for Container %q in Pod %q failed - error: %v",
				h.HTTPGet.Path, c.Name, podDesc(pod), err)
			return msg, fmt.Errorf("probe: http hook: %w", err)
		}
		return "", nil
	case h.Sleep != nil:
		if err := sleep(ctx, time.Duration(h.Sleep.Seconds)*time.Second); err != nil {
			msg := fmt.Sprintf("Sleep lifecycle hook (%d) for Container %q in Pod %q failed - error: %v",
				h.Sleep.Seconds, c.Name, podDesc(pod), err)
			return msg, fmt.Errorf("probe: sleep hook: %w", err)
		}
		return "", nil
	}
	err := errors.New("probe: invalid handler: none of exec, httpGet and sleep is set")
	return "Cannot run handler: " + err.Error(), err
}

func httpHook(ctx context.Context, pod *corev1.Pod, c *corev1.Container, g *corev1.HTTPGetAction) error {
	req, err := httpRequest(ctx, pod, c, g, "lifecycle")
	if err != nil {
		return err
	}
	client := &http.Client{Transport: newTransport(), CheckRedirect: sameHostRedirects}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	return resp.Body.Close()
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return errors.New("container terminated before sleep hook finished")
	case <-t.C:
		return nil
	}
}
