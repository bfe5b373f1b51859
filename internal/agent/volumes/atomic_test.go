package volumes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func files(kv ...string) map[string]file {
	out := map[string]file{}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i]] = file{data: []byte(kv[i+1]), mode: 0o644}
	}
	return out
}

// versions lists the hidden timestamped directories in dir.
func versions(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "..") {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestWriteAtomicUpdate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vol")
	if err := writeAtomic(dir, files("a", "1", "sub/b", "2", "gone", "x")); err != nil {
		t.Fatal(err)
	}
	first, err := os.Readlink(filepath.Join(dir, dataLink))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(first, "..") || strings.Contains(first, "/") {
		t.Fatalf("..data -> %q, want a sibling hidden directory", first)
	}
	link, err := os.Readlink(filepath.Join(dir, "sub"))
	if err != nil || link != filepath.Join(dataLink, "sub") {
		t.Fatalf("sub -> %q, %v; want ..data/sub", link, err)
	}

	// Same payload again: nothing changes.
	if err := writeAtomic(dir, files("a", "1", "sub/b", "2", "gone", "x")); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.Readlink(filepath.Join(dir, dataLink)); again != first {
		t.Errorf("unchanged payload rewrote the volume: %s -> %s", first, again)
	}

	// A changed payload: new version through ..data, old one removed, the
	// link of the dropped key removed.
	if err := writeAtomic(dir, files("a", "one", "sub/b", "2", "new", "n")); err != nil {
		t.Fatal(err)
	}
	second, _ := os.Readlink(filepath.Join(dir, dataLink))
	if second == first {
		t.Fatal("..data not swapped")
	}
	for path, want := range map[string]string{"a": "one", "sub/b": "2", "new": "n", dataLink + "/a": "one"} {
		if got := readFile(t, filepath.Join(dir, path)); got != want {
			t.Errorf("%s = %q, want %q", path, got, want)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "gone")); !os.IsNotExist(err) {
		t.Errorf("link of removed key still there: %v", err)
	}
	if v := versions(t, dir); len(v) != 1 || v[0] != second {
		t.Errorf("versions = %v, want only %s", v, second)
	}
	if _, err := os.Lstat(filepath.Join(dir, dataTmpLink)); !os.IsNotExist(err) {
		t.Errorf("%s left behind", dataTmpLink)
	}
}

// An open file of the old version keeps its content: readers see the old or
// the new data, never a mix.
func TestWriteAtomicReadersKeepOldVersion(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vol")
	if err := writeAtomic(dir, files("k", "old")); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "k"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := writeAtomic(dir, files("k", "new")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, _ := f.Read(buf)
	if string(buf[:n]) != "old" {
		t.Errorf("open reader saw %q", buf[:n])
	}
	if got := readFile(t, filepath.Join(dir, "k")); got != "new" {
		t.Errorf("new reader saw %q", got)
	}
}

func TestWriteAtomicModeChangeRewrites(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vol")
	if err := writeAtomic(dir, files("k", "v")); err != nil {
		t.Fatal(err)
	}
	if err := writeAtomic(dir, map[string]file{"k": {data: []byte("v"), mode: 0o600}}); err != nil {
		t.Fatal(err)
	}
	if got := modeOf(t, filepath.Join(dir, "k")); got != 0o600 {
		t.Errorf("mode = %o, want 600", got)
	}
}

func TestWriteAtomicRecoversFromInterruptedWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vol")
	if err := writeAtomic(dir, files("k", "v")); err != nil {
		t.Fatal(err)
	}
	// Leftovers of a crash between steps.
	if err := os.Mkdir(filepath.Join(dir, "..2001_01_01_00_00_00.123"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("nowhere", filepath.Join(dir, dataTmpLink)); err != nil {
		t.Fatal(err)
	}
	if err := writeAtomic(dir, files("k", "w")); err != nil {
		t.Fatal(err)
	}
	if v := versions(t, dir); len(v) != 1 {
		t.Errorf("versions = %v, want one", v)
	}
	if got := readFile(t, filepath.Join(dir, "k")); got != "w" {
		t.Errorf("k = %q", got)
	}
}

func TestWriteAtomicRejectsBadPaths(t *testing.T) {
	for _, p := range []string{"", "/abs", "..x", "a/../b", ".", "./"} {
		if err := writeAtomic(filepath.Join(t.TempDir(), "vol"), files(p, "v")); err == nil {
			t.Errorf("path %q accepted", p)
		}
	}
	if err := writeAtomic(filepath.Join(t.TempDir(), "vol"), files("a", "1", "a/b", "2")); err == nil {
		t.Error("a path that is both file and directory accepted")
	}
	// Harmless forms are cleaned.
	dir := filepath.Join(t.TempDir(), "vol")
	if err := writeAtomic(dir, files("./x//y", "v")); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "x", "y")); got != "v" {
		t.Errorf("x/y = %q", got)
	}
}
