package test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"skiff.dev/testenv"
)

// TestRequestBodies: JSON, YAML and protobuf bodies all create; bodies
// over 3 MiB are 413 and ConfigMap or Secret data over 1 MiB is 422;
// dryRun=All stores nothing.
func TestRequestBodies(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	cs := clientset(t, env)
	api := raw(t, env)
	const cms = "/api/v1/namespaces/default/configmaps"

	posts := []struct {
		name, contentType, body string
	}{
		{"json", "application/json", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"from-json"},"data":{"k":"v"}}`},
		{"yaml", "application/yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  k: v\n"},
	}
	for _, p := range posts {
		code, body := api.do(http.MethodPost, cms, []byte(p.body), "Content-Type", p.contentType)
		var cm corev1.ConfigMap
		if err := json.Unmarshal(body, &cm); err != nil || code != http.StatusCreated || cm.Name != "from-"+p.name || cm.Data["k"] != "v" {
			t.Errorf("%s create: %d %s", p.name, code, body)
		}
	}
	code, body := api.do(http.MethodPost, cms, []byte(posts[0].body), "Content-Type", "text/plain")
	if code != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain body: %d %s, want 415", code, body)
	}

	// client-go with protobuf bodies and answers.
	pcfg := rest.CopyConfig(env.Config)
	pcfg.ContentType = runtime.ContentTypeProtobuf
	pcfg.AcceptContentTypes = runtime.ContentTypeProtobuf
	pcs, err := kubernetes.NewForConfig(pcfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pcs.CoreV1().ConfigMaps("default").Create(ctx, configMap("from-protobuf", map[string]string{"k": "v"}), metav1.CreateOptions{}); err != nil {
		t.Errorf("protobuf ConfigMap: %v", err)
	}
	d, err := pcs.AppsV1().Deployments("default").Create(ctx, newDeployment("proto"), metav1.CreateOptions{})
	if err != nil || d.Generation != 1 || d.Spec.Template.Spec.Containers[0].Image != "busybox" {
		t.Errorf("protobuf Deployment: %v %v", d, err)
	}
	got, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "from-protobuf", metav1.GetOptions{})
	if err != nil || got.Data["k"] != "v" {
		t.Errorf("protobuf-created ConfigMap read as JSON: %v %v", got, err)
	}

	// Size limits.
	huge := strings.Repeat("x", 3<<20+1)
	code, body = api.do(http.MethodPost, cms, []byte(`{"metadata":{"name":"huge"},"data":{"k":"`+huge+`"}}`), "Content-Type", "application/json")
	if s := status(t, body); code != http.StatusRequestEntityTooLarge || s.Reason != metav1.StatusReasonRequestEntityTooLarge {
		t.Errorf("body over 3 MiB: %d %s, want 413", code, body)
	}
	big := strings.Repeat("x", 1<<20+1)
	_, err = cs.CoreV1().ConfigMaps("default").Create(ctx, configMap("big", map[string]string{"k": big}), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "Too long: may not be more than 1048576 bytes") {
		t.Errorf("ConfigMap data over 1 MiB: got %.300v, want 422 Too long", err)
	}
	_, err = cs.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "big"},
		Data: map[string][]byte{"k": []byte(big)}}, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "data: Too long: may not be more than 1048576 bytes") {
		t.Errorf("Secret data over 1 MiB: got %.300v, want 422 data: Too long", err)
	}
	// Just under the limit is fine.
	fits := strings.Repeat("x", 1<<20-10)
	if _, err := cs.CoreV1().ConfigMaps("default").Create(ctx, configMap("fits", map[string]string{"k": fits}), metav1.CreateOptions{}); err != nil {
		t.Errorf("ConfigMap of just under 1 MiB: %.300v", err)
	}

	// dryRun=All answers as a create would and stores nothing.
	dry, err := cs.CoreV1().ConfigMaps("default").Create(ctx, configMap("dry", map[string]string{"k": "v"}),
		metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil || dry.Name != "dry" || dry.UID == "" || dry.ResourceVersion != "" {
		t.Errorf("dry-run create: %+v %v, want the object with a uid and no resourceVersion", dry, err)
	}
	if _, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "dry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("after a dry-run create: got %v, want NotFound", err)
	}
	_, err = cs.CoreV1().ConfigMaps("default").Create(ctx, configMap("Bad_Name", nil), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if !apierrors.IsInvalid(err) {
		t.Errorf("dry-run of an invalid object: got %v, want 422", err)
	}
}
