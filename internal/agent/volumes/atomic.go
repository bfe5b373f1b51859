package volumes

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// file is one file of a volume's payload.
type file struct {
	data []byte
	mode os.FileMode
}

const (
	dataLink    = "..data"
	dataTmpLink = "..data_tmp"
)

// writeAtomic makes dir hold exactly files, switching from the previous
// version to the new one with a single rename of the ..data symlink:
//
//  1. check the paths;
//  2. if the version ..data points at already holds files, stop (only
//     making sure the user-visible links exist);
//  3. write files into a new hidden timestamped directory;
//  4. point ..data_tmp at it and rename it over ..data (atomic);
//  5. link each top-level name to ..data/<name>, drop links no longer
//     wanted, and remove older versions.
func writeAtomic(dir string, files map[string]file) error {
	files, err := cleanPaths(files)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	current, err := os.Readlink(filepath.Join(dir, dataLink))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if current != "" {
		same, err := holds(filepath.Join(dir, current), files)
		if err != nil {
			return err
		}
		if same {
			return linkTopLevel(dir, files)
		}
	}

	version, err := os.MkdirTemp(dir, time.Now().UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return err
	}
	if err := writeVersion(version, files); err != nil {
		_ = os.RemoveAll(version)
		return err
	}
	tmp := filepath.Join(dir, dataTmpLink)
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Symlink(filepath.Base(version), tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, dataLink)); err != nil {
		return err
	}
	if err := linkTopLevel(dir, files); err != nil {
		return err
	}
	return removeOldVersions(dir, filepath.Base(version))
}

// cleanPaths returns files keyed by clean paths. It rejects absolute paths,
// paths with "..", paths starting with ".." (reserved for the writer's own
// entries) and a path that is both a file and a directory of another.
func cleanPaths(files map[string]file) (map[string]file, error) {
	out := make(map[string]file, len(files))
	for p, f := range files {
		switch {
		case p == "":
			return nil, errors.New("invalid path: must not be empty")
		case filepath.IsAbs(p):
			return nil, fmt.Errorf("invalid path %q: must be relative", p)
		case strings.HasPrefix(p, ".."):
			return nil, fmt.Errorf("invalid path %q: must not start with '..'", p)
		case slices.Contains(strings.Split(p, "/"), ".."):
			return nil, fmt.Errorf("invalid path %q: must not contain '..'", p)
		}
		c := filepath.Clean(p)
		if c == "." {
			return nil, fmt.Errorf("invalid path %q: names no file", p)
		}
		out[c] = f
	}
	for p := range out {
		for dir := filepath.Dir(p); dir != "."; dir = filepath.Dir(dir) {
			if _, ok := out[dir]; ok {
				return nil, fmt.Errorf("invalid path %q: %q is a file", p, dir)
			}
		}
	}
	return out, nil
}

// holds reports whether version contains exactly files, with their modes.
func holds(version string, files map[string]file) (bool, error) {
	seen := 0
	same := true
	err := filepath.WalkDir(version, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(version, path)
		if err != nil {
			return err
		}
		want, ok := files[rel]
		if !ok || !d.Type().IsRegular() {
			same = false
			return filepath.SkipAll
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if info.Mode().Perm() != want.mode.Perm() || !bytes.Equal(data, want.data) {
			same = false
			return filepath.SkipAll
		}
		seen++
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil // ..data points at a removed version
	}
	return same && seen == len(files), err
}

func writeVersion(version string, files map[string]file) error {
	if err := os.Chmod(version, 0o755); err != nil {
		return err
	}
	for p, f := range files {
		path := filepath.Join(version, p)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, f.data, f.mode.Perm()); err != nil {
			return err
		}
		if err := os.Chmod(path, f.mode.Perm()); err != nil { // past the umask
			return err
		}
	}
	return nil
}

// linkTopLevel makes <dir>/<name> -> ..data/<name> for each top-level name
// of files and removes the links of names no longer in files.
func linkTopLevel(dir string, files map[string]file) error {
	want := map[string]bool{}
	for p := range files {
		top, _, _ := strings.Cut(filepath.ToSlash(filepath.Clean(p)), "/")
		want[top] = true
	}
	for name := range want {
		link := filepath.Join(dir, name)
		target := filepath.Join(dataLink, name)
		if got, err := os.Readlink(link); err == nil && got == target {
			continue
		}
		if err := os.RemoveAll(link); err != nil {
			return err
		}
		if err := os.Symlink(target, link); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "..") || want[e.Name()] {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// removeOldVersions deletes every hidden version directory except keep
// (including ones left behind by an interrupted write).
func removeOldVersions(dir, keep string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || !strings.HasPrefix(name, "..") || name == keep {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}
