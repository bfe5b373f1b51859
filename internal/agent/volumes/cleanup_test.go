package volumes

import (
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestCleanup(t *testing.T) {
	host := t.TempDir()
	hostFile := filepath.Join(host, "keep")
	if err := os.WriteFile(hostFile, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := newManager(t, newSource())
	pod := makePod().
		volume("data", emptyDir()).
		volume("cfg", configMapVol("cfg")).
		volume("host", hostPathVol(host, corev1.HostPathDirectory)).
		obj()
	if err := m.Setup(t.Context(), pod); err != nil {
		t.Fatal(err)
	}
	// A container linked the host directory into its emptyDir.
	if err := os.Symlink(host, filepath.Join(volDir(m, pod, "data"), "escape")); err != nil {
		t.Fatal(err)
	}
	if err := m.Cleanup(pod.UID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(m.o.Root, string(pod.UID))); !os.IsNotExist(err) {
		t.Errorf("pod directory still there: %v", err)
	}
	if got := readFile(t, hostFile); got != "precious" {
		t.Errorf("host file = %q", got)
	}
	// Again: nothing to do.
	if err := m.Cleanup(pod.UID); err != nil {
		t.Errorf("second Cleanup: %v", err)
	}
}

func TestCleanupRejectsBadUID(t *testing.T) {
	m := newManager(t, nil)
	for _, uid := range []string{"", "..", "a/b", "."} {
		if err := m.Cleanup(types.UID(uid)); err == nil {
			t.Errorf("Cleanup(%q) succeeded", uid)
		}
	}
}

func TestUnescapeMountPath(t *testing.T) {
	for in, want := range map[string]string{
		`/plain`:         "/plain",
		`/with\040space`: "/with space",
		`/tab\011x`:      "/tab\tx",
		`/back\134slash`: `/back\slash`,
		`/short\04`:      `/short\04`,
	} {
		if got := unescapeMountPath(in); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
}
