package agent

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"skiff.dev/internal/agent/probe"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/lifecycle")

// TestLifecycle replays the pod lifecycle scripts in testdata/lifecycle
// through the pure decision and status functions, with a simulated runtime
// that does what each plan says, and compares every step with the golden
// file next to the script. Run with -update to rewrite the golden files,
// then read the diff: it is the behaviour.
//
// A script is a pod manifest, a line "---", then one command per line:
//
//	sync                     decide, carry the plan out, compute the status
//	exit <container> <code>  the container's running instance exits
//	advance <duration>       time passes
//	probe <container> <kind> <Success|Failure|Unknown>
//	fail <container> <reason> <message...>  the next start of it fails so
//	delete <grace seconds>   the pod is deleted gracefully
//	lose-sandbox             the sandbox dies, and every container with it
func TestLifecycle(t *testing.T) {
	scripts, err := filepath.Glob("testdata/lifecycle/*.txt")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, path := range scripts {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			got := replay(t, path)
			golden := strings.TrimSuffix(path, ".txt") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the replay; got:\n%s", golden, got)
			}
		})
	}
}

// replay runs one script and returns its transcript.
func replay(t *testing.T, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	manifest, script, ok := strings.Cut(string(data), "\n---\n")
	if !ok {
		t.Fatalf("%s: no --- line", path)
	}
	var pod corev1.Pod
	if err := yaml.UnmarshalStrict([]byte(manifest), &pod); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if pod.Namespace == "" {
		pod.Namespace = "default"
	}
	if pod.UID == "" {
		pod.UID = types.UID("uid-" + pod.Name)
	}
	if pod.Spec.RestartPolicy == "" {
		pod.Spec.RestartPolicy = corev1.RestartPolicyAlways
	}
	l := newLifecycle(&pod)
	var out bytes.Buffer
	for _, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fmt.Fprintf(&out, "> %s\n", line)
		res, err := l.run(strings.Fields(line))
		if err != nil {
			t.Fatalf("%s: %q: %v", path, line, err)
		}
		out.WriteString(res)
	}
	return out.Bytes()
}

// lifecycle is one pod on a simulated runtime.
type lifecycle struct {
	pod      *corev1.Pod
	state    podState
	now      time.Time
	epoch    time.Time
	policy   backoffPolicy
	backoffs map[string]*backoff
	failures map[string]startFailure
	failNext map[string]startFailure
	probes   map[string]map[probe.Kind]probe.Result
	old      *corev1.PodStatus
	ids      int
	terminal bool
}

func newLifecycle(pod *corev1.Pod) *lifecycle {
	epoch := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	return &lifecycle{pod: pod, now: epoch, epoch: epoch,
		policy:   backoffPolicy{Base: 10 * time.Second, Max: 5 * time.Minute},
		backoffs: map[string]*backoff{}, failures: map[string]startFailure{}, failNext: map[string]startFailure{},
		probes: map[string]map[probe.Kind]probe.Result{}}
}

func (l *lifecycle) run(args []string) (string, error) {
	switch args[0] {
	case "sync":
		return l.sync(), nil
	case "exit":
		if len(args) != 3 {
			return "", fmt.Errorf("exit <container> <code>")
		}
		code, err := strconv.Atoi(args[2])
		if err != nil {
			return "", err
		}
		c := l.state.latest(args[1])
		if c == nil || c.State != stateRunning {
			return "", fmt.Errorf("%s is not running", args[1])
		}
		l.stop(c, int32(code))
		return "", nil
	case "advance":
		d, err := time.ParseDuration(args[1])
		if err != nil {
			return "", err
		}
		l.now = l.now.Add(d)
		return "", nil
	case "probe":
		if len(args) != 4 {
			return "", fmt.Errorf("probe <container> <kind> <result>")
		}
		r := map[string]probe.Result{"Success": probe.Success, "Failure": probe.Failure, "Unknown": probe.Unknown}[args[3]]
		if l.probes[args[1]] == nil {
			l.probes[args[1]] = map[probe.Kind]probe.Result{}
		}
		l.probes[args[1]][probe.Kind(args[2])] = r
		return "", nil
	case "fail":
		if len(args) < 4 {
			return "", fmt.Errorf("fail <container> <reason> <message>")
		}
		l.failNext[args[1]] = startFailure{Reason: args[2], Message: strings.Join(args[3:], " ")}
		return "", nil
	case "delete":
		grace, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil {
			return "", err
		}
		ts := metav1.NewTime(l.now)
		l.pod.DeletionTimestamp, l.pod.DeletionGracePeriodSeconds = &ts, &grace
		return "", nil
	case "lose-sandbox":
		for i := range l.state.Sandboxes {
			l.state.Sandboxes[i].Ready = false
		}
		for i := range l.state.Containers {
			if c := &l.state.Containers[i]; c.State == stateRunning {
				l.stop(c, 137)
			}
		}
		return "", nil
	}
	return "", fmt.Errorf("unknown command %q", args[0])
}

// stop ends a container instance with an exit code.
func (l *lifecycle) stop(c *containerState, code int32) {
	c.State, c.ExitCode, c.FinishedAt = stateExited, code, l.now
	delete(l.probes, c.Name)
}

// view answers probes like the agent's worker does for a running
// instance: the scripted result, else the probe's initial one.
func (l *lifecycle) view(name, id string, kind probe.Kind) probe.Result {
	if r, ok := l.probes[name][kind]; ok {
		return r
	}
	c := findContainer(l.pod, name)
	switch {
	case c == nil:
		return probe.Unknown
	case kind == probe.Readiness && c.ReadinessProbe != nil:
		return probe.Failure
	case kind == probe.Startup && c.StartupProbe != nil:
		return probe.Unknown
	}
	return probe.Success
}

func (l *lifecycle) sync() string {
	var out strings.Builder
	if l.pod.DeletionTimestamp != nil || l.terminal {
		killed := false
		for i := range l.state.Containers {
			if c := &l.state.Containers[i]; c.State != stateExited {
				l.stop(c, 143)
				killed = true
			}
		}
		for i := range l.state.Sandboxes {
			l.state.Sandboxes[i].Ready = false
		}
		if killed {
			out.WriteString("  stop: every container, then the sandbox\n")
		}
		l.terminal = true
	} else {
		p := decide(l.pod, &l.state, l.view)
		fmt.Fprintf(&out, "  plan: %s\n", describePlan(l.pod, p))
		l.apply(p, &out)
	}
	st := podStatus(statusInput{Pod: l.pod, Old: l.old, State: &l.state, Failures: l.failures, Probes: l.view,
		RuntimeName: "sim", HostIPs: []string{"192.0.2.1"}, Terminal: l.terminal, Now: l.now})
	l.old = &st
	if terminalPhase(st.Phase) && !l.terminal {
		l.terminal = true
	}
	out.WriteString(describeStatus(&st, l.epoch))
	return out.String()
}

// apply does what a plan says to the simulated runtime, with the agent's
// back-off rules for starts.
func (l *lifecycle) apply(p plan, out *strings.Builder) {
	if p.KillPod {
		for i := range l.state.Containers {
			if c := &l.state.Containers[i]; c.State == stateRunning {
				l.stop(c, 137)
			}
		}
		for i := range l.state.Sandboxes {
			l.state.Sandboxes[i].Ready = false
		}
		if p.CreateSandbox {
			l.state.Containers = slices.DeleteFunc(l.state.Containers, func(c containerState) bool { return isInit(l.pod, c.Name) })
		}
	}
	for _, k := range p.Kill {
		for i := range l.state.Containers {
			if c := &l.state.Containers[i]; c.ID == k.ID {
				l.stop(c, 137)
			}
		}
	}
	if p.CreateSandbox && len(p.StartInit)+len(p.Start) > 0 {
		l.ids++
		l.state.Sandboxes = append([]sandboxState{{ID: fmt.Sprintf("sb%d", l.ids), Attempt: p.SandboxAttempt, Ready: true,
			IPs: []string{fmt.Sprintf("10.0.0.%d", l.ids)}, CreatedAt: l.now}}, l.state.Sandboxes...)
	}
	for _, i := range p.StartInit {
		c := &l.pod.Spec.InitContainers[i]
		if !l.start(c, out) && !isSidecar(c) {
			return
		}
	}
	for _, i := range p.Start {
		l.start(&l.pod.Spec.Containers[i], out)
	}
}

// start starts a container instance unless it is in back-off or scripted
// to fail, and reports whether it started.
func (l *lifecycle) start(c *corev1.Container, out *strings.Builder) bool {
	if last := l.state.latestExited(c.Name); last != nil {
		ok, next, until := l.policy.gate(l.backoffs[c.Name], last.FinishedAt, l.now)
		if !ok {
			l.failures[c.Name] = crashLoop(l.pod, c.Name, next.Delay)
			fmt.Fprintf(out, "  back-off: %s until %s\n", c.Name, until.Sub(l.epoch))
			return false
		}
		l.backoffs[c.Name] = next
	}
	if f, ok := l.failNext[c.Name]; ok {
		delete(l.failNext, c.Name)
		l.failures[c.Name] = f
		fmt.Fprintf(out, "  start failed: %s: %s\n", c.Name, f.Reason)
		return false
	}
	attempt := int32(0)
	if latest := l.state.latest(c.Name); latest != nil {
		attempt = latest.Attempt + 1
	}
	l.ids++
	sb := ""
	if s := l.state.sandbox(); s != nil {
		sb = s.ID
	}
	l.state.Containers = append(l.state.Containers, containerState{ID: fmt.Sprintf("c%d", l.ids), Name: c.Name,
		Attempt: attempt, State: stateRunning, CreatedAt: l.now, StartedAt: l.now, Image: c.Image, Sandbox: sb,
		Hash: containerHash(c)})
	l.state.sortNewestFirst()
	delete(l.failures, c.Name)
	return true
}

// describePlan prints a plan on one line.
func describePlan(pod *corev1.Pod, p plan) string {
	var parts []string
	if p.KillPod {
		parts = append(parts, "kill pod")
	}
	for _, k := range p.Kill {
		msg := k.Message
		if msg == "" {
			msg = "Stopping container " + k.Name
		}
		parts = append(parts, fmt.Sprintf("kill %s (%s)", k.Name, msg))
	}
	if p.CreateSandbox {
		parts = append(parts, fmt.Sprintf("create sandbox (attempt %d)", p.SandboxAttempt))
	}
	for _, i := range p.StartInit {
		parts = append(parts, "start init "+pod.Spec.InitContainers[i].Name)
	}
	for _, i := range p.Start {
		parts = append(parts, "start "+pod.Spec.Containers[i].Name)
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// describeStatus prints a pod status a line per part.
func describeStatus(s *corev1.PodStatus, epoch time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  phase: %s", s.Phase)
	if s.Reason != "" {
		fmt.Fprintf(&b, " (%s: %s)", s.Reason, s.Message)
	}
	fmt.Fprintf(&b, ", podIP %s\n", s.PodIP)
	for _, c := range s.Conditions {
		fmt.Fprintf(&b, "  condition %s=%s", c.Type, c.Status)
		if c.Reason != "" {
			fmt.Fprintf(&b, " %s", c.Reason)
		}
		if c.Message != "" {
			fmt.Fprintf(&b, " %q", c.Message)
		}
		fmt.Fprintf(&b, " since %s\n", c.LastTransitionTime.Sub(epoch))
	}
	for _, group := range []struct {
		kind string
		sts  []corev1.ContainerStatus
	}{{"init ", s.InitContainerStatuses}, {"", s.ContainerStatuses}} {
		for _, c := range group.sts {
			fmt.Fprintf(&b, "  %s%s: %s, restarts %d", group.kind, c.Name, describeState(c.State), c.RestartCount)
			if c.LastTerminationState.Terminated != nil {
				fmt.Fprintf(&b, ", last %s", describeState(c.LastTerminationState))
			}
			if c.Started != nil && *c.Started {
				b.WriteString(", started")
			}
			if c.Ready {
				b.WriteString(", ready")
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func describeState(s corev1.ContainerState) string {
	switch {
	case s.Running != nil:
		return "running"
	case s.Terminated != nil:
		return fmt.Sprintf("terminated %s (exit %d)", s.Terminated.Reason, s.Terminated.ExitCode)
	case s.Waiting != nil:
		if s.Waiting.Message != "" {
			return fmt.Sprintf("waiting %s %q", s.Waiting.Reason, s.Waiting.Message)
		}
		return "waiting " + s.Waiting.Reason
	}
	return "unknown"
}
