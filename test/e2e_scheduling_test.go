package test

import (
	"strings"
	"testing"
)

// sleeper is a pod that runs until deleted; $EXTRA is more of its spec.
const sleeper = `apiVersion: v1
kind: Pod
metadata: {name: $NAME}
spec:
  $EXTRA
  containers:
  - {name: main, image: busybox, command: [sleep, "3600"]$RESOURCES}
`

func sleeperPod(name, extra, resources string) string {
	r := strings.NewReplacer("$NAME", name, "$EXTRA", extra, "$RESOURCES", resources)
	return r.Replace(sleeper)
}

// stillPending checks that a pod is Pending and bound to no node.
func (s *space) stillPending(pod string) {
	s.t.Helper()
	if got := s.get("pod/"+pod, "{.status.phase} {.spec.nodeName}"); got != "Pending " {
		s.t.Errorf("pod %s: phase and node %q, want Pending and none", pod, got)
	}
}

// e2eInsufficientCPU: a pod that asks for more CPU than any node has stays
// Pending, and kubectl describe says why.
func e2eInsufficientCPU(t *testing.T, c *cluster) {
	s := c.space(t, "cpu")
	s.create("big", sleeperPod("big", "", `, resources: {requests: {cpu: "1000"}}`))
	s.eventually([]string{"FailedScheduling", "0/1 nodes are available: 1 Insufficient cpu.", "preemption: 0/1 nodes are available: 1 "},
		"describe", "pod", "big")
	s.stillPending("big")
	contains(t, "get pod", s.run("get", "pod", "big"), "Pending")
}

// e2eNodeSelector: a pod runs only on a node its nodeSelector matches.
func e2eNodeSelector(t *testing.T, c *cluster) {
	s := c.space(t, "selector")
	s.create("nowhere", sleeperPod("nowhere", "nodeSelector: {e2e.skiff.dev/disk: none-has-it}", ""))
	s.create("here", sleeperPod("here", "nodeSelector: {kubernetes.io/hostname: "+c.node+"}", ""))
	s.wait("pod/here", "condition=Ready")
	if got := s.get("pod/here", "{.spec.nodeName}"); got != c.node {
		t.Errorf("pod here runs on %q, want %s", got, c.node)
	}
	s.eventually([]string{"FailedScheduling", "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."},
		"describe", "pod", "nowhere")
	s.stillPending("nowhere")
}

// e2eTaints: a NoSchedule taint keeps out the pods that do not tolerate
// it, lets in those that do, and once removed lets the others in too. It
// must run alone: the taint holds back every new pod.
func e2eTaints(t *testing.T, c *cluster) {
	s := c.space(t, "taints")
	taint := "e2e.skiff.dev/dedicated=yes:NoSchedule"
	contains(t, "taint", s.run("taint", "nodes", c.node, taint), "node/"+c.node+" tainted")
	tainted := true
	untaint := func() {
		if tainted {
			tainted = false
			contains(t, "untaint", s.run("taint", "nodes", c.node, taint+"-"), "node/"+c.node+" untainted")
		}
	}
	t.Cleanup(untaint)
	contains(t, "describe node", s.run("describe", "node", c.node), "Taints:", taint)

	s.create("intolerant", sleeperPod("intolerant", "", ""))
	s.create("tolerant", sleeperPod("tolerant",
		`tolerations: [{key: e2e.skiff.dev/dedicated, operator: Equal, value: "yes", effect: NoSchedule}]`, ""))
	s.wait("pod/tolerant", "condition=Ready")
	s.eventually([]string{"FailedScheduling", "0/1 nodes are available: 1 node(s) had untolerated taint"},
		"describe", "pod", "intolerant")
	s.stillPending("intolerant")

	untaint()
	s.wait("pod/intolerant", "condition=Ready")
}
