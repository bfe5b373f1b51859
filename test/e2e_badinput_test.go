package test

import (
	"fmt"
	"strings"
	"testing"
)

// e2eBadInput: pods the node cannot run say why in kubectl describe, and
// the node keeps serving the pods created after them.
func e2eBadInput(t *testing.T, c *cluster) {
	s := c.space(t, "badinput")
	closed := fmt.Sprint(freeTCPPort(t)) // nothing listens there
	s.run("create", "configmap", "settings", "--from-literal=mode=fast")
	s.create("bad", strings.ReplaceAll(`apiVersion: v1
kind: Pod
metadata: {name: nfs}
spec:
  containers:
  - name: main
    image: busybox
    command: [sleep, "3600"]
    volumeMounts: [{name: share, mountPath: /mnt/share}]
  volumes:
  - name: share
    nfs: {server: 192.0.2.10, path: /exports}
---
apiVersion: v1
kind: Pod
metadata: {name: missing-key}
spec:
  containers:
  - name: main
    image: busybox
    command: [sleep, "3600"]
    env:
    - name: MODE
      valueFrom: {configMapKeyRef: {name: settings, key: speed}}
---
apiVersion: v1
kind: Pod
metadata: {name: not-ready}
spec:
  containers:
  - name: main
    image: busybox
    command: [sleep, "3600"]
    readinessProbe:
      tcpSocket: {port: $CLOSED}
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {name: not-live}
spec:
  containers:
  - name: main
    image: busybox
    command: [sleep, "3600"]
    livenessProbe:
      httpGet: {port: $CLOSED, path: /healthz}
      periodSeconds: 1
`, "$CLOSED", closed))

	s.eventually([]string{"FailedMount", `volume "share"`}, "describe", "pod", "nfs")
	contains(t, "FailedMount event", s.run("get", "events", "--field-selector", "involvedObject.name=nfs,reason=FailedMount", "-o", "jsonpath={.items[*].message}"), "nfs")
	contains(t, "get nfs", s.run("get", "pod", "nfs"), "ContainerCreating")
	s.eventually([]string{"CreateContainerConfigError", "couldn't find key speed in ConfigMap " + s.ns + "/settings"},
		"describe", "pod", "missing-key")
	contains(t, "get missing-key", s.run("get", "pod", "missing-key"), "CreateContainerConfigError")
	s.eventually([]string{"Readiness probe failed:", ":" + closed + ": connect: connection refused"}, "describe", "pod", "not-ready")
	s.eventually([]string{"Liveness probe failed:", ":" + closed + ": connect: connection refused"}, "describe", "pod", "not-live")

	// A healthy pod created after them runs, logs and execs.
	s.run("run", "healthy", "--image=busybox", "--restart=Never", "--command", "--", "sh", "-c", "echo healthy; sleep 3600")
	s.wait("pod/healthy", "condition=Ready")
	s.eventually([]string{"healthy"}, "logs", "healthy")
	if out, code := s.code("", "exec", "healthy", "--", "echo", "still serving"); code != 0 || out != "still serving\n" {
		t.Errorf("kubectl exec healthy: exit code %d, output %q", code, out)
	}
	// The bad pods are still held where they were.
	contains(t, "get pods", s.run("get", "pods"), "ContainerCreating", "CreateContainerConfigError")
}
