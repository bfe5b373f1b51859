package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	corev1 "k8s.io/api/core/v1"
)

// checkHostPath applies a hostPath volume's type: the *OrCreate types
// create what is missing (a 0755 directory with its parents; an empty 0644
// file, whose parent must exist), the others check what is there. Symlinks
// are followed, as the mount will follow them. The messages are the
// kubelet's ("hostPath type check failed: /x is not a directory").
func checkHostPath(src *corev1.HostPathVolumeSource) error {
	t := corev1.HostPathUnset
	if src.Type != nil {
		t = *src.Type
	}
	p := src.Path
	if t == corev1.HostPathUnset {
		return nil
	}
	info, err := os.Stat(p)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("hostPath type check failed: %w", err)
	}
	var ok bool
	var what string
	switch t {
	case corev1.HostPathDirectoryOrCreate:
		if !exists {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return fmt.Errorf("hostPath: create directory: %w", err)
			}
			return nil
		}
		ok, what = info.IsDir(), "a directory"
	case corev1.HostPathDirectory:
		ok, what = exists && info.IsDir(), "a directory"
	case corev1.HostPathFileOrCreate:
		if !exists {
			f, err := os.OpenFile(p, os.O_CREATE|os.O_RDONLY, 0o644)
			if err != nil {
				return fmt.Errorf("hostPath: create file: %w", err)
			}
			return f.Close()
		}
		ok, what = info.Mode().IsRegular(), "a file"
	case corev1.HostPathFile:
		ok, what = exists && info.Mode().IsRegular(), "a file"
	case corev1.HostPathSocket:
		ok, what = exists && info.Mode()&fs.ModeSocket != 0, "a socket file"
	case corev1.HostPathCharDev:
		ok, what = exists && info.Mode()&fs.ModeCharDevice != 0, "a character device"
	case corev1.HostPathBlockDev:
		ok, what = exists && info.Mode()&fs.ModeDevice != 0 && info.Mode()&fs.ModeCharDevice == 0, "a block device"
	default:
		return fmt.Errorf("%s is an invalid volume type", t)
	}
	if !ok {
		return fmt.Errorf("hostPath type check failed: %s is not %s", p, what)
	}
	return nil
}
