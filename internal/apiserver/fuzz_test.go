package apiserver

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/internal/registry"
	"skiff.dev/internal/store"
)

// fuzzResource is a configmaps resource with no store behind it: enough
// for the pure decoding and patching code.
func fuzzResource(t testing.TB) *resource {
	t.Helper()
	s, err := New(Options{Store: store.New(nil), Resources: registry.All()})
	if err != nil {
		t.Fatal(err)
	}
	return s.resource("", "v1", "configmaps")
}

// clientError fails unless err is a 4xx metav1.Status.
func clientError(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	st := toStatus(err)
	if st.Code < 400 || st.Code >= 500 {
		t.Fatalf("got %d %s (%s), want a 4xx", st.Code, st.Reason, st.Message)
	}
}

var contentTypes = []string{mediaJSON, mediaYAML, mediaProtobuf, "text/plain"}

func FuzzDecodeBody(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"v"}}`), uint8(0))
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"), uint8(1))
	f.Add([]byte("k8s\x00\x0a\x0c\x0a\x02v1\x12\x06Secret"), uint8(2))
	f.Add([]byte(`{"apiVersion":"apps/v1","kind":"Deployment"}`), uint8(0))
	f.Add([]byte(`{"metadata":{"name":1}}`), uint8(0))
	f.Add([]byte("- a\n- b: [c"), uint8(1))
	f.Fuzz(func(t *testing.T, body []byte, ct uint8) {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentTypes[int(ct)%len(contentTypes)])
		_, err := decodeBody(r, body, corev1.SchemeGroupVersion.WithKind("ConfigMap"), &corev1.ConfigMap{})
		clientError(t, err)
	})
}

var patchTypes = []string{patchJSON, patchMerge, patchStrategic}

func FuzzPatch(f *testing.F) {
	h := fuzzResource(f)
	f.Add([]byte(`{"data":{"k":"v2"}}`), uint8(1))
	f.Add([]byte(`[{"op":"replace","path":"/data/k","value":"x"}]`), uint8(0))
	f.Add([]byte(`[{"op":"move","from":"/data","path":"/data/k"}]`), uint8(0))
	f.Add([]byte(`{"metadata":{"labels":{"$patch":"delete"}},"data":{"$retainKeys":["k"]}}`), uint8(2))
	f.Add([]byte(`{"data":null,"kind":"Secret"}`), uint8(1))
	f.Add([]byte(`{{`), uint8(2))
	f.Fuzz(func(t *testing.T, patch []byte, pt uint8) {
		current := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "default",
			Labels: map[string]string{"app": "x"}}, Data: map[string]string{"k": "v"}}
		current.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMap"))
		r := httptest.NewRequest(http.MethodPatch, "/api/v1/namespaces/default/configmaps/a", bytes.NewReader(patch))
		_, _, err := applyPatch(r, patchTypes[int(pt)%len(patchTypes)], patch, current, h.res.Kind)
		clientError(t, err)
	})
}
