package volumes

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/types"
)

// Cleanup removes everything the pod's volumes left on the node.
//
// It removes Root/<podUID> and nothing else: hostPath volumes live outside
// it, and symlinks inside it (the atomic writer's, or ones a container
// wrote into an emptyDir) are removed, never followed. If anything is
// mounted below the pod's directory, Cleanup refuses and removes nothing,
// so a leftover bind mount never lets it delete host files. Removing a pod
// that has no directory is not an error.
func (m *Manager) Cleanup(podUID types.UID) error {
	dir, err := m.podDir(podUID)
	if err != nil {
		return err
	}
	unlock := m.lockPod(podUID)
	defer unlock()
	m.forgetPod(podUID)
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := checkNoMounts(dir); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("volumes: remove pod %s: %w", podUID, err)
	}
	return nil
}

// checkNoMounts fails if a mount point of this process's mount namespace is
// dir or lies below it. Without /proc (not Linux) it checks nothing.
func checkNoMounts(dir string) error {
	resolved, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("volumes: %w", err)
	}
	f, err := os.Open("/proc/self/mountinfo")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("volumes: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		// id parent major:minor root mountpoint options ...
		fields := strings.Fields(s.Text())
		if len(fields) < 5 {
			continue
		}
		point := unescapeMountPath(fields[4])
		if within(resolved, point) {
			return fmt.Errorf("volumes: %s is mounted inside the pod directory; not removing it", point)
		}
	}
	if err := s.Err(); err != nil {
		return fmt.Errorf("volumes: read mountinfo: %w", err)
	}
	return nil
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
