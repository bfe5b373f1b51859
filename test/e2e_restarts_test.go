package test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// crashStatus is one line of the crash-loop watch: restartCount, the
// waiting reason and message, the last termination's start and finish.
var crashStatus = regexp.MustCompile(`^(\d+)\|([^|]*)\|([^|]*)\|([^|]*)\|([^|]*)$`)

var backOffMessage = regexp.MustCompile(`^back-off (\S+) restarting failed container`)

// e2eCrashLoopBackOff: a container that keeps crashing goes into
// CrashLoopBackOff and waits longer before each restart: the default
// back-off is 10s, doubling.
func e2eCrashLoopBackOff(t *testing.T, c *cluster) {
	s := c.space(t, "crashloop")
	s.run("run", "crash", "--image=busybox", "--restart=Always", "--command", "--", "sh", "-c", "echo crashing; exit 1")
	statuses := s.watch("pod", "crash", "-o", `jsonpath={.status.containerStatuses[0].restartCount}|{.status.containerStatuses[0].state.waiting.reason}|{.status.containerStatuses[0].state.waiting.message}|{.status.containerStatuses[0].lastState.terminated.startedAt}|{.status.containerStatuses[0].lastState.terminated.finishedAt}{"\n"}`)

	// The terminations seen (lastState), and the back-offs announced in
	// the waiting message, in order: the first restart is immediate, then
	// 10s, 20s, 40s…
	type run struct{ started, finished time.Time }
	var runs []run
	var backOffs []string
	deadline := time.Now().Add(150 * time.Second)
	for len(runs) < 3 || len(backOffs) < 3 {
		line := s.next(statuses, deadline, "three back-offs of pod crash")
		m := crashStatus.FindStringSubmatch(line)
		if m == nil {
			continue // no container status yet
		}
		if b := backOffMessage.FindStringSubmatch(m[3]); m[2] == "CrashLoopBackOff" && b != nil && (len(backOffs) == 0 || backOffs[len(backOffs)-1] != b[1]) {
			backOffs = append(backOffs, b[1])
		}
		started, err1 := time.Parse(time.RFC3339, m[4])
		finished, err2 := time.Parse(time.RFC3339, m[5])
		if err1 == nil && err2 == nil && (len(runs) == 0 || runs[len(runs)-1] != run{started, finished}) {
			runs = append(runs, run{started, finished})
		}
	}

	var last time.Duration
	for _, b := range backOffs {
		d, err := time.ParseDuration(b)
		if err != nil || d <= last {
			t.Errorf("back-offs announced in the waiting message: %v, want growing durations", backOffs)
			break
		}
		last = d
	}
	var gaps []time.Duration
	for i := 1; i < len(runs); i++ {
		gaps = append(gaps, runs[i].started.Sub(runs[i-1].finished))
	}
	for i := 1; i < len(gaps); i++ {
		if gaps[i] <= gaps[i-1] {
			t.Errorf("gaps between one run's end and the next one's start: %v, want each longer than the one before", gaps)
			break
		}
	}
	t.Logf("back-offs announced %v; gaps between runs %v", backOffs, gaps)
	// Three back-offs announced: at least three restarts done.
	if n, _ := strconv.Atoi(s.get("pod/crash", "{.status.containerStatuses[0].restartCount}")); n < 3 {
		t.Errorf("restartCount %d after back-offs %v", n, backOffs)
	}

	contains(t, "get pod", s.run("get", "pod", "crash"), "CrashLoopBackOff")
	contains(t, "describe", s.run("describe", "pod", "crash"),
		"CrashLoopBackOff", "BackOff", "Back-off restarting failed container crash in pod crash_"+s.ns)
	contains(t, "logs --previous", s.run("logs", "crash", "--previous"), "crashing")
}

// e2eLivenessRestarts: a failing liveness probe restarts the container.
func e2eLivenessRestarts(t *testing.T, c *cluster) {
	s := c.space(t, "liveness")
	s.create("live", `apiVersion: v1
kind: Pod
metadata: {name: live}
spec:
  containers:
  - name: main
    image: busybox
    command: [sleep, "3600"]
    livenessProbe:
      exec: {command: [sh, -c, 'test -f $DIR/alive || { echo no alive file; exit 1; }']}
      periodSeconds: 1
      failureThreshold: 2
`)
	s.eventually([]string{"Liveness probe failed: no alive file", "failed liveness probe, will be restarted"}, "describe", "pod", "live")
	deadline := time.Now().Add(90 * time.Second)
	for {
		n, _ := strconv.Atoi(s.get("pod/live", "{.status.containerStatuses[0].restartCount}"))
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restartCount of pod live is %d after 90s of failing liveness probes, want 2 or more", n)
		}
		time.Sleep(time.Second)
	}
	contains(t, "events", s.run("get", "events", "--field-selector", "involvedObject.name=live"), "Unhealthy", "Killing")
}

// e2eReadinessFlips: a readiness probe sets the Ready condition, both
// ways, without restarting the container.
func e2eReadinessFlips(t *testing.T, c *cluster) {
	s := c.space(t, "readiness")
	s.create("ready", `apiVersion: v1
kind: Pod
metadata: {name: ready}
spec:
  containers:
  - name: main
    image: busybox
    command: [sleep, "3600"]
    readinessProbe:
      exec: {command: [test, -f, $DIR/ready]}
      periodSeconds: 1
`)
	ready := `{.status.conditions[?(@.type=="Ready")].status}`
	s.wait("pod/ready", "jsonpath={.status.phase}=Running")
	s.eventually([]string{"Readiness probe failed"}, "describe", "pod", "ready")
	if got := s.get("pod/ready", ready); got != "False" {
		t.Errorf("Ready while the probe fails: %q, want False", got)
	}
	flag := filepath.Join(s.dir, "ready")
	touch := func() {
		if err := os.WriteFile(flag, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	touch()
	s.wait("pod/ready", "condition=Ready")
	contains(t, "get ready", s.run("get", "pod", "ready"), "1/1", "Running")
	if err := os.Remove(flag); err != nil {
		t.Fatal(err)
	}
	s.wait("pod/ready", "condition=Ready=false")
	contains(t, "get not ready", s.run("get", "pod", "ready"), "0/1", "Running")
	touch()
	s.wait("pod/ready", "condition=Ready")
	if got := s.get("pod/ready", "{.status.containerStatuses[0].restartCount}"); got != "0" {
		t.Errorf("restartCount %s, want 0: readiness must not restart", got)
	}
	if strings.Contains(s.run("describe", "pod", "ready"), "Killing") {
		t.Errorf("a failing readiness probe killed the container")
	}
}
