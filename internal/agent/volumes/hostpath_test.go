package volumes

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestHostPathTypes(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "dir")
	regular := filepath.Join(base, "file")
	sock := filepath.Join(base, "s.sock")
	missing := filepath.Join(base, "missing")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(regular, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	tests := []struct {
		path    string
		typ     corev1.HostPathType
		wantErr string
	}{
		{path: missing, typ: corev1.HostPathUnset},
		{path: dir, typ: corev1.HostPathDirectory},
		{path: regular, typ: corev1.HostPathDirectory, wantErr: "hostPath type check failed: " + regular + " is not a directory"},
		{path: missing, typ: corev1.HostPathDirectory, wantErr: "hostPath type check failed: " + missing + " is not a directory"},
		{path: regular, typ: corev1.HostPathDirectoryOrCreate, wantErr: "hostPath type check failed: " + regular + " is not a directory"},
		{path: regular, typ: corev1.HostPathFile},
		{path: dir, typ: corev1.HostPathFile, wantErr: "hostPath type check failed: " + dir + " is not a file"},
		{path: dir, typ: corev1.HostPathFileOrCreate, wantErr: "hostPath type check failed: " + dir + " is not a file"},
		{path: filepath.Join(missing, "x"), typ: corev1.HostPathFileOrCreate, wantErr: "hostPath: create file: open " + filepath.Join(missing, "x") + ": no such file or directory"},
		{path: sock, typ: corev1.HostPathSocket},
		{path: regular, typ: corev1.HostPathSocket, wantErr: "hostPath type check failed: " + regular + " is not a socket file"},
		{path: "/dev/null", typ: corev1.HostPathCharDev},
		{path: regular, typ: corev1.HostPathCharDev, wantErr: "hostPath type check failed: " + regular + " is not a character device"},
		{path: "/dev/null", typ: corev1.HostPathBlockDev, wantErr: "hostPath type check failed: /dev/null is not a block device"},
		{path: dir, typ: "Weird", wantErr: "Weird is an invalid volume type"},
	}
	for _, tt := range tests {
		err := checkHostPath(&corev1.HostPathVolumeSource{Path: tt.path, Type: &tt.typ})
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.wantErr {
			t.Errorf("%s %q: err = %q, want %q", tt.typ, tt.path, got, tt.wantErr)
		}
	}
}

func TestHostPathCreates(t *testing.T) {
	base := t.TempDir()
	m := newManager(t, nil)
	newDir := filepath.Join(base, "a", "b")
	newFile := filepath.Join(base, "f")
	pod := makePod().
		volume("d", hostPathVol(newDir, corev1.HostPathDirectoryOrCreate)).
		volume("f", hostPathVol(newFile, corev1.HostPathFileOrCreate)).
		obj()
	for range 2 {
		if err := m.Setup(t.Context(), pod); err != nil {
			t.Fatal(err)
		}
	}
	if fi, err := os.Stat(newDir); err != nil || !fi.IsDir() {
		t.Errorf("DirectoryOrCreate: %v", err)
	}
	if fi, err := os.Stat(newFile); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("FileOrCreate: %v", err)
	}
	err := m.Setup(t.Context(), makePod().volume("x", hostPathVol(filepath.Join(base, "nope"), corev1.HostPathDirectory)).obj())
	want := `volumes: volume "x": hostPath type check failed: ` + filepath.Join(base, "nope") + " is not a directory"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}
