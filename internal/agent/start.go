package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// errBackOff means a start was skipped because the container is in
// back-off; errStart means a start failed (the reason is recorded).
var (
	errBackOff = errors.New("agent: in back-off")
	errStart   = errors.New("agent: container start failed")
)

// start starts one container instance the way the kubelet's startContainer
// does: back-off check, image, config (env, mounts), create, start,
// postStart hook. A failure becomes the container's waiting reason and a
// Warning event; success clears it. pod carries the IPs env vars need.
func (w *worker) start(ctx context.Context, pod *corev1.Pod, c *corev1.Container, sandboxID string,
	sbCfg *runtimeapi.PodSandboxConfig, s *podState) error {
	a := w.a
	now := time.Now()
	policy := backoffPolicy{Base: a.o.BackOffBase, Max: a.o.BackOffMax}
	key := c.Name + "/" + containerHash(c)
	if last := s.latestExited(c.Name); last != nil {
		ok, next, until := policy.gate(w.backoffs[key], last.FinishedAt, now)
		if !ok {
			a.containerEvent(pod, c.Name, corev1.EventTypeWarning, eventBackOff,
				"Back-off restarting failed container %s in pod %s", c.Name, podDescription(pod))
			w.failures[c.Name] = crashLoop(pod, c.Name, next.Delay)
			w.wakeAt(until)
			return errBackOff
		}
		w.backoffs[key] = next
	}

	image, err := w.ensureImage(ctx, pod, c, sbCfg)
	if err != nil {
		return err
	}
	attempt := int32(0)
	if latest := s.latest(c.Name); latest != nil {
		attempt = latest.Attempt + 1
	} else {
		attempt = restartCountFromLogs(filepath.Join(w.logDir, c.Name))
	}

	fail := func(reason, msg string) error {
		a.containerEvent(pod, c.Name, corev1.EventTypeWarning, eventFailed, "Error: %s", msg)
		w.failures[c.Name] = startFailure{Reason: reason, Message: msg}
		w.wakeAt(time.Now().Add(a.o.BackOffBase))
		return errStart
	}
	env, err := a.resolve(ctx, pod, c, &objectSource{client: a.client}, a.allocatable, a.serviceEnv(pod))
	if err != nil {
		return fail(reasonCreateConfigError, err.Error())
	}
	mounts, err := a.volumes.MountsWithEnv(pod, c, env)
	if err != nil {
		return fail(reasonCreateConfigError, err.Error())
	}
	if err := os.MkdirAll(filepath.Join(w.logDir, c.Name), 0o755); err != nil {
		return fail(reasonCreateConfigError, fmt.Sprintf("create container log directory for container %s failed: %v", c.Name, err))
	}
	// Containers with a root filesystem of their own (runtimes with images)
	// get the termination message file mounted; a host process would need
	// root for the mount and would cover a host path, so it gets none.
	termLog := ""
	if c.TerminationMessagePath != "" && a.o.Images != nil {
		termLog = w.terminationLogPath(c.Name, attempt)
		if err := os.MkdirAll(filepath.Dir(termLog), 0o755); err == nil {
			if f, err := os.Create(termLog); err == nil {
				f.Close()
				_ = os.Chmod(termLog, 0o666)
			}
		}
	}
	mem, _ := a.capacity.Memory().AsInt64()
	cfg := containerConfig(pod, c, containerSpec{Attempt: attempt, Image: image, Env: env, Mounts: mounts,
		NodeMemory: mem, TerminationLog: termLog})

	id, err := a.rt.CreateContainer(ctx, sandboxID, cfg, sbCfg)
	if err != nil {
		return fail(reasonCreateError, grpcMessage(err))
	}
	a.containerEvent(pod, c.Name, corev1.EventTypeNormal, eventCreated, "Created container: %s", c.Name)
	if err := a.rt.StartContainer(ctx, id); err != nil {
		return fail(reasonRunError, grpcMessage(err))
	}
	a.containerEvent(pod, c.Name, corev1.EventTypeNormal, eventStarted, "Started container %s", c.Name)
	delete(w.failures, c.Name)

	if c.Lifecycle != nil && c.Lifecycle.PostStart != nil {
		msg, err := a.prober.RunHook(ctx, pod, c, id, c.Lifecycle.PostStart)
		if err != nil {
			a.log.Info("agent: postStart hook failed", "pod", podDescription(pod), "container", c.Name, "err", err)
			// The message stays out of the event: it may hold secrets.
			a.containerEvent(pod, c.Name, corev1.EventTypeWarning, eventFailedPostStartHook, "PostStartHook failed")
			w.killContainer(ctx, pod, id, c.Name, "FailedPostStartHook", gracePeriod(pod, c, killOther), nil)
			if msg == "" {
				msg = err.Error()
			}
			w.failures[c.Name] = startFailure{Reason: reasonPostStartHookError, Message: msg}
			return errStart
		}
	}
	return nil
}

// crashLoop is the waiting reason of a container in back-off.
func crashLoop(pod *corev1.Pod, name string, delay time.Duration) startFailure {
	return startFailure{Reason: reasonCrashLoopBackOff, Message: fmt.Sprintf(
		"back-off %s restarting failed container=%s pod=%s", delay, name, podDescription(pod))}
}

// ensureImage makes sure the container's image is present per its pull
// policy and returns the image reference to run. Runtimes without images
// run the image name as given.
func (w *worker) ensureImage(ctx context.Context, pod *corev1.Pod, c *corev1.Container, sbCfg *runtimeapi.PodSandboxConfig) (string, error) {
	a := w.a
	images := a.o.Images
	if images == nil {
		return c.Image, nil
	}
	spec := &runtimeapi.ImageSpec{Image: c.Image, UserSpecifiedImage: c.Image}
	ref := ""
	if st, err := images.ImageStatus(ctx, spec, false); err == nil && st.GetImage() != nil {
		ref = st.GetImage().GetId()
	}
	fail := func(reason, msg string) (string, error) {
		w.failures[c.Name] = startFailure{Reason: reason, Message: msg}
		return "", errStart
	}
	switch {
	case ref == "" && c.ImagePullPolicy == corev1.PullNever:
		msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", c.Image)
		a.containerEvent(pod, c.Name, corev1.EventTypeWarning, reasonErrImageNeverPull, "%s", msg)
		return fail(reasonErrImageNeverPull, msg)
	case ref != "" && c.ImagePullPolicy != corev1.PullAlways:
		a.containerEvent(pod, c.Name, corev1.EventTypeNormal, eventPulled, "Container image %q already present on machine", c.Image)
		return ref, nil
	}
	now := time.Now()
	policy := backoffPolicy{Base: a.o.BackOffBase, Max: a.o.BackOffMax}
	key := "image/" + c.Image
	if b := w.backoffs[key]; b != nil {
		if wait, until := policy.waiting(b, b.Updated, now); wait {
			msg := fmt.Sprintf("Back-off pulling image %q", c.Image)
			a.containerEvent(pod, c.Name, corev1.EventTypeNormal, eventBackOff, "%s", msg)
			w.wakeAt(until)
			return fail(reasonImagePullBackOff, msg)
		}
	}
	a.containerEvent(pod, c.Name, corev1.EventTypeNormal, eventPulling, "Pulling image %q", c.Image)
	pulled, err := w.pull(ctx, pod, spec, sbCfg)
	if err != nil {
		w.backoffs[key] = policy.next(w.backoffs[key], now, now)
		w.wakeAt(now.Add(w.backoffs[key].Delay))
		msg := fmt.Sprintf("Failed to pull image %q: %s", c.Image, grpcMessage(err))
		a.containerEvent(pod, c.Name, corev1.EventTypeWarning, eventFailed, "%s", msg)
		a.containerEvent(pod, c.Name, corev1.EventTypeWarning, eventFailed, "Error: %s", reasonErrImagePull)
		return fail(reasonErrImagePull, msg)
	}
	delete(w.backoffs, key)
	took := time.Since(now).Round(time.Millisecond)
	a.containerEvent(pod, c.Name, corev1.EventTypeNormal, eventPulled, "Successfully pulled image %q in %v (%v including waiting)", c.Image, took, took)
	return pulled, nil
}

var logFileName = regexp.MustCompile(`^(\d+)\.log`)

// restartCountFromLogs continues the restart count from the log files a
// container left, when the runtime no longer has its instances.
func restartCountFromLogs(dir string) int32 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := int32(0)
	for _, e := range entries {
		if m := logFileName.FindStringSubmatch(e.Name()); m != nil {
			if v, err := strconv.Atoi(m[1]); err == nil && int32(v)+1 > n {
				n = int32(v) + 1
			}
		}
	}
	return n
}

// grpcMessage is an error's message without the gRPC status prefix.
func grpcMessage(err error) string {
	if st, ok := status.FromError(err); ok {
		return st.Message()
	}
	return err.Error()
}

// isNotFound reports whether a runtime error says the object is gone.
func isNotFound(err error) bool {
	return status.Code(err) == codes.NotFound
}
