package process

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Volumes. A container with mounts starts in a mount namespace of its own,
// which begins as a copy of the host's: spawn unshares it on the thread
// that then forks the command (spawn.go). setupMounts makes every mount in
// it private, so nothing done there propagates back, and then bind-mounts
// each volume's host path at its container path. There is no separate root
// filesystem: a container path is a path in the host's tree, seen
// differently by this container only. A command run in the container later
// (ExecSync, Exec) starts in the same namespace: its thread enters the
// namespace of the container's main process.
//
// A container path that exists (a file such as /etc/hosts, or a directory)
// is covered by the bind mount inside the namespace; the host's file is not
// touched. A container path that does not exist needs a mount point, and a
// mount point must exist in the tree: setupMounts creates the missing
// directories (and, for a file volume, an empty file) on the host, as runc
// does inside a container's root filesystem. They are left behind, empty, when
// the container ends; nothing that existed is ever changed.

// newMountNamespace gives the calling thread a mount namespace of its own
// with mounts in it. unshare(CLONE_NEWNS) implies CLONE_FS: the thread
// gets its own root and working directory too, which the rest of the
// process no longer shares.
func newMountNamespace(mounts []mountSpec) error {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("process: new mount namespace: %w", err)
	}
	return setupMounts(mounts)
}

// enterMountNamespace moves the calling thread into the mount namespace of
// process p. setns needs a thread whose root and working directory are its
// own (CLONE_FS), and sets them to the namespace's root.
func enterMountNamespace(p procRef) error {
	fd, err := unix.Open("/proc/"+strconv.Itoa(p.pid)+"/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("process: the container's mount namespace: %w", err)
	}
	defer unix.Close(fd)
	// Checked after the open: the namespace is the process's, not that of
	// a process that has taken over its pid.
	if !alive(p.pid, p.start) {
		return errors.New("process: the container's main process has ended")
	}
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("process: enter the container's mount namespace: %w", err)
	}
	if err := unix.Setns(fd, unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("process: enter the container's mount namespace: %w", err)
	}
	return nil
}

// setupMounts bind-mounts mounts in the calling thread's (new) mount
// namespace.
func setupMounts(mounts []mountSpec) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("process: make mounts private: %w", err)
	}
	// Parents before children, so /data/sub lands inside /data's volume.
	sorted := slices.Clone(mounts)
	slices.SortStableFunc(sorted, func(a, b mountSpec) int {
		return depth(a.ContainerPath) - depth(b.ContainerPath)
	})
	for _, m := range sorted {
		if err := bindMount(m); err != nil {
			return err
		}
	}
	return nil
}

func depth(path string) int {
	return strings.Count(filepath.Clean(path), "/")
}

func bindMount(m mountSpec) error {
	src, err := os.Stat(m.HostPath)
	if err != nil {
		return fmt.Errorf("process: volume %s: %w", m.HostPath, err)
	}
	if err := mountPoint(m.ContainerPath, src.IsDir()); err != nil {
		return err
	}
	if err := unix.Mount(m.HostPath, m.ContainerPath, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("process: bind %s at %s: %w", m.HostPath, m.ContainerPath, err)
	}
	if !m.Readonly {
		return nil
	}
	// A read-only bind is a remount of the bind; it must repeat the flags
	// the mount already has, or the kernel may refuse to drop them.
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY)
	var st unix.Statfs_t
	if err := unix.Statfs(m.ContainerPath, &st); err == nil {
		for _, f := range []struct{ statfs, mount uintptr }{
			{unix.ST_NOSUID, unix.MS_NOSUID},
			{unix.ST_NODEV, unix.MS_NODEV},
			{unix.ST_NOEXEC, unix.MS_NOEXEC},
			{unix.ST_NOATIME, unix.MS_NOATIME},
			{unix.ST_NODIRATIME, unix.MS_NODIRATIME},
			{unix.ST_RELATIME, unix.MS_RELATIME},
		} {
			if uintptr(st.Flags)&f.statfs != 0 {
				flags |= f.mount
			}
		}
	}
	if err := unix.Mount("", m.ContainerPath, "", flags, ""); err != nil {
		return fmt.Errorf("process: make %s read-only: %w", m.ContainerPath, err)
	}
	return nil
}

// mountPoint makes sure path exists as a directory (dir) or a file.
func mountPoint(path string, dir bool) error {
	st, err := os.Stat(path)
	switch {
	case err == nil && st.IsDir() != dir:
		what := map[bool]string{true: "a directory", false: "a file"}
		return fmt.Errorf("process: cannot mount %s at %s, which is %s", what[dir], path, what[st.IsDir()])
	case err == nil:
		return nil
	case !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("process: mount point %s: %w", path, err)
	}
	if dir {
		if err := os.MkdirAll(path, 0o755); err != nil {
			return fmt.Errorf("process: create mount point: %w", err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("process: create mount point: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("process: create mount point: %w", err)
	}
	return f.Close()
}
