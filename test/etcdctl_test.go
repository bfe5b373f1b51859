package test

import (
	"context"
	"encoding/json"
	"os/exec"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/testenv"
)

// TestEtcdctlReadsJSON checks upstream's key layout and that values are
// readable JSON, with Debian's etcdctl and the client certificate from the
// data dir.
func TestEtcdctlReadsJSON(t *testing.T) {
	if _, err := exec.LookPath("etcdctl"); err != nil {
		t.Skip("etcdctl is not installed; `make test` installs Debian's etcd-client when run as root")
	}
	env := testenv.Start(t)
	cs := clientset(t, env)
	cm := configMap("from-etcdctl", map[string]string{"greeting": "hello"})
	if _, err := cs.CoreV1().ConfigMaps("default").Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	certs := env.Server.Certs()
	cmd := exec.Command("etcdctl", "--endpoints", env.Server.EtcdURL(),
		"--cacert", certs.CACert, "--cert", certs.EtcdClientCert, "--key", certs.EtcdClientKey,
		"get", "/registry/configmaps/default/from-etcdctl", "--print-value-only")
	cmd.Env = append(cmd.Environ(), "ETCDCTL_API=3")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("etcdctl: %v\n%s", err, out)
	}
	var stored struct {
		APIVersion string            `json:"apiVersion"`
		Kind       string            `json:"kind"`
		Metadata   metav1.ObjectMeta `json:"metadata"`
		Data       map[string]string `json:"data"`
	}
	if err := json.Unmarshal(out, &stored); err != nil {
		t.Fatalf("etcdctl printed no JSON object: %v\n%s", err, out)
	}
	if stored.Kind != "ConfigMap" || stored.APIVersion != "v1" || stored.Metadata.Name != "from-etcdctl" || stored.Data["greeting"] != "hello" {
		t.Fatalf("stored object: %+v", stored)
	}
	if stored.Metadata.ResourceVersion != "" {
		t.Errorf("resourceVersion is stored (%q); it should come from the mod revision", stored.Metadata.ResourceVersion)
	}
}
