package agent

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"skiff.dev/internal/agent/probe"
)

// probeView answers what the probes last said about one container
// instance. Unknown means no result yet (or the probe is not running for
// that instance).
type probeView func(container, containerID string, kind probe.Kind) probe.Result

// killReason tells a kill's grace period which probe asked for it.
type killReason int

const (
	killOther killReason = iota
	killLiveness
	killStartup
)

// killSpec is one container to stop.
type killSpec struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Message is the Killing event's message; empty means
	// "Stopping container <name>".
	Message string     `json:"message,omitempty"`
	Reason  killReason `json:"-"`
}

// plan is what one sync of a live pod does, in this order: kill the pod
// (every container and the sandbox) or the listed containers, create a
// sandbox, start the listed init containers, then the listed containers.
// Indexes refer to pod.Spec.InitContainers and pod.Spec.Containers.
type plan struct {
	KillPod        bool       `json:"killPod,omitempty"`
	CreateSandbox  bool       `json:"createSandbox,omitempty"`
	SandboxAttempt uint32     `json:"sandboxAttempt,omitempty"`
	Kill           []killSpec `json:"kill,omitempty"`
	StartInit      []int      `json:"startInit,omitempty"`
	Start          []int      `json:"start,omitempty"`
}

// decide computes the plan for a pod that is not being deleted, from its
// spec, what the runtime reports and the probe results. It follows the
// kubelet: a pod whose sandbox is gone or not ready starts over in a new
// one (unless it has already run and never restarts); init containers run
// one at a time in order, sidecars (init containers with restartPolicy
// Always) are started in order and kept running; then the containers run
// and restart per the pod's restartPolicy. A pod with nothing left to run
// or keep is killed, which ends it.
func decide(pod *corev1.Pod, s *podState, probes probeView) plan {
	create, attempt := sandboxChanged(s)
	p := plan{KillPod: create, CreateSandbox: create, SandboxAttempt: attempt}
	if create {
		if !restartOnFailure(pod) && attempt != 0 && len(s.Containers) != 0 {
			// It ran and will not run again: only make sure it is stopped.
			p.CreateSandbox = false
			return p
		}
		var start []int
		for i, c := range pod.Spec.Containers {
			if pod.Spec.RestartPolicy == corev1.RestartPolicyOnFailure && succeeded(s.latest(c.Name)) {
				continue
			}
			start = append(start, i)
		}
		if len(start) == 0 && initDone(pod, s) {
			p.CreateSandbox = false
			return p
		}
		if len(pod.Spec.InitContainers) != 0 {
			p.StartInit = []int{0}
			return p
		}
		p.Start = start
		return p
	}

	initialized := decideInit(pod, s, probes, &p)
	if p.KillPod || !initialized {
		return p
	}

	keep := 0
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		st := s.latest(c.Name)
		if st == nil || st.State != stateRunning {
			if shouldStart(pod, st) {
				p.Start = append(p.Start, i)
				if st != nil && st.State == stateUnknown {
					p.Kill = append(p.Kill, killSpec{ID: st.ID, Name: c.Name,
						Message: `Container is in "unknown" state, try killing it before restart`})
				}
			}
			continue
		}
		var msg string
		reason := killOther
		restart := restartOnFailure(pod)
		switch {
		case st.Hash != "" && st.Hash != containerHash(c):
			msg = fmt.Sprintf("Container %s definition changed", c.Name)
			restart = true
		case probes(c.Name, st.ID, probe.Liveness) == probe.Failure:
			msg, reason = fmt.Sprintf("Container %s failed liveness probe", c.Name), killLiveness
		case probes(c.Name, st.ID, probe.Startup) == probe.Failure:
			msg, reason = fmt.Sprintf("Container %s failed startup probe", c.Name), killStartup
		default:
			keep++
			continue
		}
		if restart {
			msg += ", will be restarted"
			p.Start = append(p.Start, i)
		}
		p.Kill = append(p.Kill, killSpec{ID: st.ID, Name: c.Name, Message: msg, Reason: reason})
	}
	if keep == 0 && len(p.Start) == 0 {
		// Nothing runs and nothing will: the pod is done. Sidecars must
		// not keep it alive.
		p.KillPod = true
		p.StartInit = nil
	}
	return p
}

// decideInit adds the init container actions to p and reports whether the
// pod is initialized (every init container done, every sidecar started),
// so that its containers may run. It walks the init containers from the
// last, since completed ones may have been removed from the runtime.
func decideInit(pod *corev1.Pod, s *podState, probes probeView, p *plan) bool {
	inits := pod.Spec.InitContainers
	if len(inits) == 0 {
		return true
	}
	// A container that was created or runs means initialization finished
	// at some point, even if the init containers are gone now.
	initialized := false
	for _, c := range pod.Spec.Containers {
		if st := s.latest(c.Name); st != nil && (st.State == stateCreated || st.State == stateRunning) {
			initialized = true
			break
		}
	}
	seen := initialized
	last := len(inits) - 1
	for i := last; i >= 0; i-- {
		c := &inits[i]
		st := s.latest(c.Name)
		sidecar := isSidecar(c)
		if st == nil {
			if seen && sidecar {
				p.StartInit = append(p.StartInit, i)
			}
			continue
		}
		if seen && !sidecar {
			continue
		}
		switch st.State {
		case stateCreated:
			p.StartInit = append(p.StartInit, i)
		case stateRunning:
			if !sidecar {
				break // wait for it to finish
			}
			if c.StartupProbe != nil {
				if r := probes(c.Name, st.ID, probe.Startup); r != probe.Success {
					if r == probe.Failure {
						p.Kill = append(p.Kill, killSpec{ID: st.ID, Name: c.Name, Reason: killStartup,
							Message: fmt.Sprintf("Init container %s failed startup probe", c.Name)})
						p.StartInit = append(p.StartInit, i)
					}
					break
				}
			}
			if i == last {
				initialized = true
			} else if !seen {
				p.StartInit = append(p.StartInit, i+1)
			}
			if st.Hash != "" && st.Hash != containerHash(c) {
				p.Kill = append(p.Kill, killSpec{ID: st.ID, Name: c.Name,
					Message: fmt.Sprintf("Init container %s definition changed", c.Name)})
				p.StartInit = append(p.StartInit, i)
				break
			}
			if c.LivenessProbe != nil && probes(c.Name, st.ID, probe.Liveness) == probe.Failure {
				p.Kill = append(p.Kill, killSpec{ID: st.ID, Name: c.Name, Reason: killLiveness,
					Message: fmt.Sprintf("Init container %s failed liveness probe", c.Name)})
				p.StartInit = append(p.StartInit, i)
			}
		case stateExited:
			if sidecar {
				p.StartInit = append(p.StartInit, i)
				break
			}
			if initFailed(st) {
				if !restartOnFailure(pod) {
					p.KillPod, p.StartInit = true, nil
					return false
				}
				p.StartInit = append(p.StartInit, i)
				break
			}
			if i == last {
				initialized = true
			} else {
				p.StartInit = append(p.StartInit, i+1)
			}
		default: // unknown
			if !sidecar && !restartOnFailure(pod) {
				p.KillPod, p.StartInit = true, nil
				return false
			}
			p.Kill = append(p.Kill, killSpec{ID: st.ID, Name: c.Name,
				Message: `Init container is in "unknown" state, try killing it before restart`})
			p.StartInit = append(p.StartInit, i)
		}
		seen = true
	}
	if !seen {
		p.StartInit = append(p.StartInit, 0)
	}
	slices.Reverse(p.StartInit)
	return initialized
}

// sandboxChanged reports whether the pod needs a new sandbox, and the
// attempt number the new one gets: when there is none, when the newest is
// not ready, or when more than one is ready.
func sandboxChanged(s *podState) (bool, uint32) {
	sb := s.sandbox()
	if sb == nil {
		return true, 0
	}
	ready := 0
	for _, x := range s.Sandboxes {
		if x.Ready {
			ready++
		}
	}
	if ready > 1 || !sb.Ready {
		return true, sb.Attempt + 1
	}
	return false, sb.Attempt
}

// shouldStart reports whether a container that is not running (st is its
// newest instance, nil if none) must be started now, per restartPolicy.
func shouldStart(pod *corev1.Pod, st *containerState) bool {
	switch {
	case pod.DeletionTimestamp != nil:
		return false
	case st == nil:
		return true
	case st.State == stateRunning:
		return false
	case st.State == stateUnknown || st.State == stateCreated:
		return true
	case pod.Spec.RestartPolicy == corev1.RestartPolicyNever:
		return false
	case pod.Spec.RestartPolicy == corev1.RestartPolicyOnFailure && st.ExitCode == 0:
		return false
	}
	return true
}

// initDone reports whether every regular init container has completed.
func initDone(pod *corev1.Pod, s *podState) bool {
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if isSidecar(c) {
			continue
		}
		if st := s.latest(c.Name); st == nil || st.State != stateExited || initFailed(st) {
			return false
		}
	}
	return true
}

func restartOnFailure(pod *corev1.Pod) bool {
	return pod.Spec.RestartPolicy != corev1.RestartPolicyNever
}

func succeeded(st *containerState) bool {
	return st != nil && st.State == stateExited && st.ExitCode == 0
}

func initFailed(st *containerState) bool {
	return st.Reason == "OOMKilled" || st.State == stateExited && st.ExitCode != 0 || st.State == stateUnknown
}

// isSidecar reports whether an init container is a sidecar: one with
// restartPolicy Always, which keeps running next to the containers.
func isSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}
