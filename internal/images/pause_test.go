package images

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestPauseBinariesEmbedded checks each embedded binary is a small static
// linux executable of its architecture.
func TestPauseBinariesEmbedded(t *testing.T) {
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}
	for _, arch := range PauseArchs {
		gz, err := pauseFiles.ReadFile("pause_linux_" + arch + ".gz")
		if err != nil {
			t.Fatal(err)
		}
		if len(gz) >= 1<<20 {
			t.Errorf("%s: compressed pause is %d bytes, want under 1 MiB", arch, len(gz))
		}
		bin, err := PauseBinary(arch)
		if err != nil {
			t.Fatal(err)
		}
		f, err := elf.NewFile(bytes.NewReader(bin))
		if err != nil {
			t.Fatalf("%s: not ELF: %v", arch, err)
		}
		if f.Machine != want[arch] {
			t.Errorf("%s: ELF machine %s, want %s", arch, f.Machine, want[arch])
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("%s: has an ELF interpreter: not static", arch)
			}
		}
		f.Close()
	}
	if _, err := PauseBinary("mips"); err == nil {
		t.Error("PauseBinary(mips) gave no error")
	}
	if v := PauseGoVersion(); v == "" {
		t.Error("no recorded Go version")
	}
}

// moduleRoot is the directory holding go.mod, two levels up.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s", root)
	}
	return root
}

// TestPauseBinaryReproducible rebuilds images/pause for linux/amd64 with
// the flags of scripts/build-pause.sh and checks the result equals the
// embedded binary, i.e. the embedded one was built from this source. Builds
// are byte-identical only with the same toolchain, so it needs the Go
// version recorded beside the binaries.
func TestPauseBinaryReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds images/pause; skipped in -short")
	}
	recorded := PauseGoVersion()
	if runtime.Version() != recorded {
		t.Skipf("embedded pause was built by %s, this test runs %s: builds differ across toolchains (run `go generate ./internal/images` to rebuild)", recorded, runtime.Version())
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to rebuild pause with: %v", err)
	}
	out := filepath.Join(t.TempDir(), "pause")
	cmd := exec.Command(goBin, "build", "-buildvcs=false", "-trimpath", "-ldflags", "-s -w -buildid=", "-o", out, "./images/pause")
	cmd.Dir = moduleRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOAMD64=v1", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	built, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := PauseBinary("amd64")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(built, embedded) {
		t.Errorf("rebuilt pause (%d bytes) differs from the embedded one (%d bytes): images/pause changed without `go generate ./internal/images` (scripts/build-pause.sh)", len(built), len(embedded))
	}
}
