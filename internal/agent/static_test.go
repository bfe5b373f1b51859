package agent

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

const manifest = `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    image: busybox
    command: ["sleep", "1000"]
`

// TestParseStaticPod: a manifest becomes the kubelet's static pod: named
// after the node, bound to it, defaulted, with a UID that depends on the
// manifest, the node and the file, and the config annotations.
func TestParseStaticPod(t *testing.T) {
	strategy := podStrategy()
	p, err := parseStaticPod([]byte(manifest), "/etc/manifests/web.yaml", "node-1", strategy)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "web-node-1" || p.Namespace != "default" || p.Spec.NodeName != "node-1" {
		t.Errorf("name %s/%s node %s", p.Namespace, p.Name, p.Spec.NodeName)
	}
	if p.Annotations[annotationConfigSource] != "file" || p.Annotations[annotationConfigHash] != string(p.UID) || len(p.UID) != 32 {
		t.Errorf("annotations %v uid %s", p.Annotations, p.UID)
	}
	if p.Spec.RestartPolicy != corev1.RestartPolicyAlways || p.Spec.Containers[0].TerminationMessagePath == "" {
		t.Errorf("not defaulted: %+v", p.Spec)
	}
	if len(p.Spec.Tolerations) != 1 || p.Spec.Tolerations[0].Effect != corev1.TaintEffectNoExecute {
		t.Errorf("tolerations %v", p.Spec.Tolerations)
	}
	if !isStatic(p) || isMirror(p) {
		t.Errorf("static %v mirror %v", isStatic(p), isMirror(p))
	}
	again, _ := parseStaticPod([]byte(manifest), "/etc/manifests/web.yaml", "node-1", strategy)
	other, _ := parseStaticPod([]byte(manifest), "/etc/manifests/web.yaml", "node-2", strategy)
	changed, _ := parseStaticPod([]byte(strings.Replace(manifest, "1000", "2000", 1)), "/etc/manifests/web.yaml", "node-1", strategy)
	if again.UID != p.UID || other.UID == p.UID || changed.UID == p.UID {
		t.Errorf("UIDs: same %s %s, other node %s, changed %s", p.UID, again.UID, other.UID, changed.UID)
	}

	for _, bad := range []string{
		"kind: Service\napiVersion: v1\nmetadata: {name: x}\n",
		"apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: c}]}\n", // no image
		"apiVersion: v1\nkind: Pod\nspec: {containers: [{name: c, image: i}]}\n",            // no name
		"not yaml: [",
	} {
		if _, err := parseStaticPod([]byte(bad), "/m/x.yaml", "n", strategy); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
