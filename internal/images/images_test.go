package images

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// file is one entry of an image's flattened file system.
type file struct {
	typ  byte
	mode int64
	link string
	data []byte
}

// filesOf flattens img into a map from path (no leading slash) to entry.
func filesOf(t *testing.T, img v1.Image) map[string]file {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	files := map[string]file{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimSuffix(strings.TrimPrefix(h.Name, "/"), "/")] = file{h.Typeflag, h.Mode, h.Linkname, data}
	}
	return files
}

func configOf(t *testing.T, img v1.Image) *v1.ConfigFile {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return cf
}

func TestPauseImage(t *testing.T) {
	img, err := Pause()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers %d, %v; want 1", len(layers), err)
	}
	files := filesOf(t, img)
	want, _ := PauseBinary(runtime.GOARCH)
	p, ok := files["pause"]
	if !ok || p.typ != tar.TypeReg || p.mode&0o111 == 0 || !bytes.Equal(p.data, want) {
		t.Errorf("/pause: present %v, type %c, mode %o, same bytes %v", ok, p.typ, p.mode, bytes.Equal(p.data, want))
	}
	cf := configOf(t, img)
	if !slices.Equal(cf.Config.Entrypoint, []string{"/pause"}) || cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("config: entrypoint %q os %q arch %q", cf.Config.Entrypoint, cf.OS, cf.Architecture)
	}
	// Same input, same digest: nodes agree on the sandbox image's identity.
	again, _ := Pause()
	d1, _ := img.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("two Pause() images differ: %s vs %s", d1, d2)
	}
	arm, err := PauseFor("arm64")
	if err != nil {
		t.Fatal(err)
	}
	if cf := configOf(t, arm); cf.Architecture != "arm64" || cf.Variant != "v8" {
		t.Errorf("arm64 pause config arch %q variant %q", cf.Architecture, cf.Variant)
	}
}

func TestBusyboxImage(t *testing.T) {
	if _, err := os.Stat(DefaultBusyboxPath); err != nil {
		t.Skipf("no static busybox at %s (Debian package busybox-static): %v", DefaultBusyboxPath, err)
	}
	img, err := Busybox("")
	if err != nil {
		t.Fatal(err)
	}
	files := filesOf(t, img)
	host, _ := os.ReadFile(DefaultBusyboxPath)
	if f := files["bin/busybox"]; f.typ != tar.TypeReg || !bytes.Equal(f.data, host) || f.mode&0o111 == 0 {
		t.Errorf("/bin/busybox: type %c mode %o same bytes %v", f.typ, f.mode, bytes.Equal(f.data, host))
	}
	for _, a := range []string{"sh", "ls", "cat", "echo", "sleep", "hostname", "wget", "nc", "env", "ps", "kill", "true", "false", "mkdir", "rm", "head", "tail", "date", "id", "whoami"} {
		if f := files["bin/"+a]; f.typ != tar.TypeSymlink || f.link != "busybox" {
			t.Errorf("/bin/%s: type %c link %q, want symlink to busybox", a, f.typ, f.link)
		}
	}
	if _, ok := files["bin/printenv"]; ok {
		t.Error("/bin/printenv linked although this busybox has no such applet")
	}
	if f := files["tmp"]; f.typ != tar.TypeDir || f.mode&0o1777 != 0o1777 {
		t.Errorf("/tmp: type %c mode %o, want a sticky world-writable dir", f.typ, f.mode)
	}
	passwd := string(files["etc/passwd"].data)
	group := string(files["etc/group"].data)
	for _, s := range []string{"root:x:0:0:", "nobody:x:65534:65534:"} {
		if !strings.Contains(passwd, s) {
			t.Errorf("/etc/passwd lacks %q: %q", s, passwd)
		}
	}
	for _, s := range []string{"root:x:0:", "nobody:x:65534:"} {
		if !strings.Contains(group, s) {
			t.Errorf("/etc/group lacks %q: %q", s, group)
		}
	}
	cf := configOf(t, img)
	if !slices.Equal(cf.Config.Cmd, []string{"sh"}) || len(cf.Config.Entrypoint) != 0 || cf.Architecture != runtime.GOARCH {
		t.Errorf("config: cmd %q entrypoint %q arch %q", cf.Config.Cmd, cf.Config.Entrypoint, cf.Architecture)
	}
	if _, err := Busybox(t.TempDir() + "/none"); err == nil {
		t.Error("Busybox of a missing file gave no error")
	}
}

func TestTestWebImage(t *testing.T) {
	// Any ELF executable will do; the arm64 pause shows the architecture is
	// taken from the binary, not from the running program.
	bin, err := PauseBinary("arm64")
	if err != nil {
		t.Fatal(err)
	}
	img, err := TestWeb(bin)
	if err != nil {
		t.Fatal(err)
	}
	files := filesOf(t, img)
	if f := files["testweb"]; f.typ != tar.TypeReg || !bytes.Equal(f.data, bin) || f.mode != 0o755 {
		t.Errorf("/testweb: type %c mode %o same bytes %v", f.typ, f.mode, bytes.Equal(f.data, bin))
	}
	cf := configOf(t, img)
	if !slices.Equal(cf.Config.Entrypoint, []string{"/testweb"}) || cf.Architecture != "arm64" {
		t.Errorf("config: entrypoint %q arch %q", cf.Config.Entrypoint, cf.Architecture)
	}
	if _, err := TestWeb(nil); err == nil {
		t.Error("TestWeb(nil) gave no error")
	}
}
