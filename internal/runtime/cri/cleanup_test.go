package cri

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// integrationRequirements returns why the containerd integration test
// cannot run here, or "".
func integrationRequirements() string {
	if os.Geteuid() != 0 {
		return "needs root"
	}
	for _, bin := range []string{"containerd", "containerd-shim-runc-v2", "runc"} {
		if _, err := exec.LookPath(bin); err != nil {
			return bin + " is not installed"
		}
	}
	for _, file := range []string{"/usr/lib/cni/bridge", "/usr/lib/cni/host-local", "/usr/lib/cni/loopback", "/usr/lib/cni/portmap", "/bin/busybox"} {
		if _, err := os.Stat(file); err != nil {
			return file + " is missing"
		}
	}
	return ""
}

// routeClash reports a host route, other than a default route or one via
// the skiff bridge, that overlaps cidr.
func routeClash(cidr netip.Prefix) string {
	f, err := os.Open("/proc/net/route")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 8 || fields[0] == testBridge {
			continue
		}
		dst, err1 := hex.DecodeString(fields[1])
		mask, err2 := hex.DecodeString(fields[7])
		if err1 != nil || err2 != nil || len(dst) != 4 || len(mask) != 4 {
			continue
		}
		// /proc/net/route prints addresses in host (little-endian) order.
		var d, m [4]byte
		binary.BigEndian.PutUint32(d[:], binary.LittleEndian.Uint32(dst))
		binary.BigEndian.PutUint32(m[:], binary.LittleEndian.Uint32(mask))
		bits := 0
		for _, b := range m {
			for ; b != 0; b <<= 1 {
				bits++
			}
		}
		if bits == 0 {
			continue
		}
		route := netip.PrefixFrom(netip.AddrFrom4(d), bits)
		if route.Overlaps(cidr) {
			return "host route " + route.String() + " on " + fields[0] + " overlaps " + cidr.String()
		}
	}
	return ""
}

func linkExists(name string) bool {
	_, err := os.Stat(filepath.Join("/sys/class/net", name))
	return err == nil
}

func dirNames(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// cleanupHost undoes what a test containerd leaves behind under dir:
// containers runc still knows (whose shims would otherwise keep running),
// shims serving this containerd, and mounts (snapshots, sandbox /dev/shm,
// network namespaces).
func cleanupHost(t *testing.T, l layout) {
	t.Helper()
	// Containers runc still has in this containerd's runc root.
	for _, ns := range dirNames(l.runcRoot) {
		root := filepath.Join(l.runcRoot, ns)
		for _, id := range dirNames(root) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			out, err := exec.CommandContext(ctx, "runc", "--root", root, "delete", "--force", id).CombinedOutput()
			cancel()
			t.Logf("cleanup: runc delete --force %s: %v %s", id, err, out)
		}
	}
	// Shims started by this containerd name its socket on their command line.
	for _, pid := range shimsOf(l.socket) {
		t.Logf("cleanup: killing leftover shim %d", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
	// Mounts below dir, deepest first.
	mounts := mountsUnder(l.dir)
	slices.SortFunc(mounts, func(a, b string) int { return len(b) - len(a) })
	for _, m := range mounts {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil {
			t.Logf("cleanup: unmount %s: %v", m, err)
		}
	}
}

// shimsOf lists the pids of containerd-shim-runc-v2 processes whose
// command line names socket.
func shimsOf(socket string) []int {
	var pids []int
	for _, name := range dirNames("/proc") {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", name, "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if len(args) > 0 && strings.HasSuffix(args[0], "containerd-shim-runc-v2") && slices.Contains(args, socket) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// mountsUnder lists this mount namespace's mount points below dir.
func mountsUnder(dir string) []string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var mounts []string
	for line := range strings.Lines(string(data)) {
		fields := strings.Fields(line)
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMountPath(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			mounts = append(mounts, mp)
		}
	}
	return mounts
}

// unescapeMountPath decodes mountinfo's octal escapes (\040 for a space).
func unescapeMountPath(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
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

// hostPaths are the directories outside its data directory that a
// containerd and the CNI plugins create: the shims' socket directory,
// host-local's and libcni's state, and (with no cgroup parent) a k8s.io
// cgroup in each controller.
func hostPaths() []string {
	paths := []string{"/run/containerd/s", "/run/containerd", "/var/lib/cni/networks/" + CNINetwork, "/var/lib/cni/networks", "/var/lib/cni/results", "/var/lib/cni"}
	cgroups, _ := filepath.Glob("/sys/fs/cgroup/*/k8s.io")
	for _, ctl := range dirNames("/sys/fs/cgroup") {
		if p := filepath.Join("/sys/fs/cgroup", ctl, "k8s.io"); !slices.Contains(cgroups, p) {
			cgroups = append(cgroups, p)
		}
	}
	return append(paths, cgroups...)
}

// absentPaths returns those of paths that do not exist.
func absentPaths(paths []string) []string {
	var absent []string
	for _, p := range paths {
		if _, err := os.Lstat(p); os.IsNotExist(err) {
			absent = append(absent, p)
		}
	}
	return absent
}

// removeCreated removes the directories the test created, if empty (host-
// local's directory for the test network may hold its last_reserved_ip and
// lock files, which are removed too).
func removeCreated(t *testing.T, created []string) {
	t.Helper()
	for _, p := range created {
		if filepath.Base(p) == CNINetwork {
			for _, name := range []string{"lock", "last_reserved_ip.0"} {
				os.Remove(filepath.Join(p, name))
			}
		}
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			t.Logf("cleanup: %v", err)
		}
	}
}
