package test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"skiff.dev/testenv"
)

// kubectl runs the real kubectl against env and returns its combined output.
type kubectl struct {
	t          *testing.T
	kubeconfig string
}

func newKubectl(t *testing.T, env *testenv.Env) *kubectl {
	t.Helper()
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not on PATH; CI installs it")
	}
	return &kubectl{t: t, kubeconfig: env.Kubeconfig}
}

func (k *kubectl) cmd(ctx context.Context, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", k.kubeconfig}, args...)...)
	c.Env = append(os.Environ(), "KUBECTL_DISPATCHER_QUIET=1")
	return c
}

// run expects success and returns the output.
func (k *kubectl) run(args ...string) string {
	k.t.Helper()
	out, err := k.try(args...)
	if err != nil {
		k.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// fail expects failure and returns the output.
func (k *kubectl) fail(args ...string) string {
	k.t.Helper()
	out, err := k.try(args...)
	if err == nil {
		k.t.Fatalf("kubectl %s succeeded, want failure:\n%s", strings.Join(args, " "), out)
	}
	return out
}

func (k *kubectl) try(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := k.cmd(ctx, args...).CombinedOutput()
	return stripSkew(string(out)), err
}

// stripSkew drops kubectl's version-skew warning: the machine's kubectl
// is older than the server.
func stripSkew(s string) string {
	var keep []string
	for _, line := range strings.SplitAfter(s, "\n") {
		if strings.Contains(line, "exceeds the supported minor version skew") {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "")
}

func contains(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s: output lacks %q:\n%s", what, w, out)
		}
	}
}

const walkManifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.local/web:1
        ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: COLOR
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
data:
  password: aHVudGVyMg==
`

func TestKubectlWalk(t *testing.T) {
	env := testenv.Start(t)
	k := newKubectl(t, env)
	dir := t.TempDir()
	manifest := filepath.Join(dir, "app.yaml")
	if err := os.WriteFile(manifest, []byte(walkManifest), 0o600); err != nil {
		t.Fatal(err)
	}

	contains(t, "create ns", k.run("create", "namespace", "walk"), "namespace/walk created")
	out := k.run("-n", "walk", "apply", "-f", manifest)
	contains(t, "apply", out, "deployment.apps/web created", "service/web created", "configmap/settings created", "secret/creds created")
	out = k.run("-n", "walk", "apply", "-f", manifest)
	contains(t, "apply again", out, "deployment.apps/web unchanged", "service/web unchanged", "configmap/settings unchanged", "secret/creds unchanged")
	changed := strings.Replace(walkManifest, "mode: COLOR", "mode: MONO", 1)
	if err := os.WriteFile(manifest, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	contains(t, "apply changed", k.run("-n", "walk", "apply", "-f", manifest), "configmap/settings configured", "deployment.apps/web unchanged")
	contains(t, "server-side apply", k.run("-n", "walk", "apply", "--server-side", "--force-conflicts", "-f", manifest), "configmap/settings serverside-applied")
	genBefore := k.run("-n", "walk", "get", "deploy", "web", "-o", "jsonpath={.metadata.generation}")

	contains(t, "get table", k.run("-n", "walk", "get", "deployments"), "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "web")
	contains(t, "get wide", k.run("-n", "walk", "get", "deploy", "-o", "wide"), "CONTAINERS", "IMAGES", "registry.local/web:1", "app=web")
	contains(t, "get yaml", k.run("-n", "walk", "get", "cm", "settings", "-o", "yaml"), "kind: ConfigMap", "mode: MONO")
	if got := k.run("-n", "walk", "get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"); got != "2" {
		t.Errorf("jsonpath replicas: %q", got)
	}
	contains(t, "get -l", k.run("-n", "walk", "get", "deploy,svc", "-l", "app=web"), "deployment.apps/web")
	out = k.run("-n", "walk", "get", "cm", "--field-selector", "metadata.name=settings")
	contains(t, "field selector", out, "settings")
	if strings.Contains(out, "kube-root-ca") {
		t.Errorf("field selector let other objects through:\n%s", out)
	}
	contains(t, "get -A", k.run("get", "cm", "-A"), "NAMESPACE", "walk", "settings")
	contains(t, "show labels", k.run("-n", "walk", "get", "deploy", "--show-labels"), "LABELS", "app=web")
	contains(t, "get svc", k.run("-n", "walk", "get", "svc", "web"), "ClusterIP", "80/TCP")

	// get -w sees a change made while it watches.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	watcher := k.cmd(ctx, "-n", "walk", "get", "cm", "settings", "-w", "-o", "jsonpath={.data.mode}{\"\\n\"}")
	stdout, err := watcher.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := watcher.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "MONO" {
		t.Fatalf("get -w first line: %q", lines.Text())
	}
	k.run("-n", "walk", "patch", "cm", "settings", "-p", `{"data":{"mode":"WATCHED"}}`)
	if !lines.Scan() || lines.Text() != "WATCHED" {
		t.Fatalf("get -w did not see the change: %q", lines.Text())
	}
	cancel()
	_ = watcher.Wait()

	contains(t, "describe", k.run("-n", "walk", "describe", "deployment", "web"), "Name:", "web", "Replicas:", "StrategyType:", "RollingUpdate")
	contains(t, "label", k.run("-n", "walk", "label", "cm", "settings", "tier=gold"), "configmap/settings labeled")
	contains(t, "annotate", k.run("-n", "walk", "annotate", "cm", "settings", "note=hi"), "configmap/settings annotated")
	contains(t, "patch strategic", k.run("-n", "walk", "patch", "deploy", "web", "--type", "strategic", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"registry.local/web:2"}]}}}}`), "deployment.apps/web patched")
	contains(t, "patch merge", k.run("-n", "walk", "patch", "cm", "settings", "--type", "merge", "-p", `{"data":{"extra":"1"}}`), "configmap/settings patched")
	contains(t, "patch json", k.run("-n", "walk", "patch", "cm", "settings", "--type", "json", "-p", `[{"op":"replace","path":"/data/extra","value":"2"}]`), "configmap/settings patched")
	gen, _ := strconv.Atoi(genBefore)
	want := fmt.Sprintf("registry.local/web:2 %d", gen+1)
	if got := k.run("-n", "walk", "get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image} {.metadata.generation}"); got != want {
		t.Errorf("after strategic patch: %q, want %q (the spec change bumps generation once)", got, want)
	}
	if got := k.run("-n", "walk", "get", "cm", "settings", "-o", "jsonpath={.data.extra} {.metadata.labels.tier} {.metadata.annotations.note}"); got != "2 gold hi" {
		t.Errorf("after merge and json patches: %q", got)
	}
	contains(t, "scale", k.run("-n", "walk", "scale", "deployment", "web", "--replicas=5"), "deployment.apps/web scaled")
	if got := k.run("-n", "walk", "get", "deploy", "web", "-o", "jsonpath={.spec.replicas}"); got != "5" {
		t.Errorf("replicas after scale: %q", got)
	}
	contains(t, "create configmap", k.run("-n", "walk", "create", "configmap", "made", "--from-literal=a=b"), "configmap/made created")
	contains(t, "create secret", k.run("-n", "walk", "create", "secret", "generic", "token", "--from-literal=t=s3cret"), "secret/token created")
	contains(t, "create deployment", k.run("-n", "walk", "create", "deployment", "api", "--image=registry.local/api:1"), "deployment.apps/api created")
	contains(t, "api-resources", k.run("api-resources"), "deployments", "deploy", "apps/v1", "configmaps", "cm")
	contains(t, "explain", k.run("explain", "deployment.spec.strategy"), "KIND:", "Deployment", "FIELD: strategy", "rollingUpdate")
	contains(t, "auth can-i", k.run("auth", "can-i", "create", "pods"), "yes")

	// kubectl's messages for bad input.
	contains(t, "invalid name", k.fail("-n", "walk", "create", "configmap", "Bad_Name"),
		`ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"`)
	contains(t, "missing namespace", k.fail("-n", "nope", "create", "configmap", "x"), `namespaces "nope" not found`)
	contains(t, "not found", k.fail("-n", "walk", "get", "cm", "missing"), `Error from server (NotFound): configmaps "missing" not found`)

	contains(t, "delete --wait", k.run("-n", "walk", "delete", "cm", "made", "--wait"), `configmap "made" deleted`)
	contains(t, "delete ns", k.run("delete", "namespace", "walk", "--wait", "--timeout=60s"), `namespace "walk" deleted`)
	contains(t, "namespace gone", k.fail("get", "namespace", "walk"), `namespaces "walk" not found`)
	contains(t, "contents gone", k.run("-n", "walk", "get", "cm,deploy,secrets,svc"), "No resources found in walk namespace.")
}
