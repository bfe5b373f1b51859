package agent

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"syscall"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// hostReadings are the node's resource readings that pressure conditions
// are judged from. A reading of -1 is unknown.
type hostReadings struct {
	MemoryAvailable int64 // bytes
	DiskAvailable   int64 // bytes on the data dir's filesystem
	DiskCapacity    int64
	InodesFree      int64
	Inodes          int64
	PIDsAvailable   int64
	PIDMax          int64
}

// readHost takes the readings from /proc and statfs(dataDir).
func readHost(dataDir string) hostReadings {
	r := hostReadings{MemoryAvailable: -1, DiskAvailable: -1, DiskCapacity: -1, InodesFree: -1, Inodes: -1,
		PIDsAvailable: -1, PIDMax: -1}
	if mi, err := meminfo(); err == nil {
		if v, ok := mi["MemAvailable"]; ok {
			r.MemoryAvailable = v
		}
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dataDir, &st); err == nil {
		r.DiskAvailable = int64(st.Bavail) * st.Bsize
		r.DiskCapacity = int64(st.Blocks) * st.Bsize
		r.InodesFree, r.Inodes = int64(st.Ffree), int64(st.Files)
	}
	if max, err := readInt("/proc/sys/kernel/pid_max"); err == nil {
		r.PIDMax = max
		// /proc/loadavg's fourth field is running/total scheduling entities.
		if b, err := os.ReadFile("/proc/loadavg"); err == nil {
			f := strings.Fields(string(b))
			if len(f) >= 4 {
				if _, total, ok := strings.Cut(f[3], "/"); ok {
					if n, err := strconv.ParseInt(total, 10, 64); err == nil {
						r.PIDsAvailable = max - n
					}
				}
			}
		}
	}
	return r
}

// hostCapacity reads the node's capacity from the host: cpus, memory,
// the data dir's filesystem, huge pages and the pod limit.
func hostCapacity(dataDir string, maxPods int) corev1.ResourceList {
	c := corev1.ResourceList{
		corev1.ResourceCPU:  *resource.NewQuantity(int64(goruntime.NumCPU()), resource.DecimalSI),
		corev1.ResourcePods: *resource.NewQuantity(int64(maxPods), resource.DecimalSI),
	}
	if mi, err := meminfo(); err == nil {
		c[corev1.ResourceMemory] = *resource.NewQuantity(mi["MemTotal"], resource.BinarySI)
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dataDir, &st); err == nil {
		c[corev1.ResourceEphemeralStorage] = *resource.NewQuantity(int64(st.Blocks)*st.Bsize, resource.BinarySI)
	}
	dirs, _ := filepath.Glob("/sys/kernel/mm/hugepages/hugepages-*kB")
	for _, d := range dirs {
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(d), "hugepages-"), "kB"), 10, 64)
		if err != nil {
			continue
		}
		n, _ := readInt(filepath.Join(d, "nr_hugepages"))
		size := resource.NewQuantity(kb*1024, resource.BinarySI)
		c[corev1.ResourceName(corev1.ResourceHugePagesPrefix+size.String())] = *resource.NewQuantity(n*kb*1024, resource.BinarySI)
	}
	return c
}

// meminfo reads /proc/meminfo in bytes.
func meminfo() (map[string]int64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 1 && f[1] == "kB" {
			v *= 1024
		}
		out[name] = v
	}
	return out, nil
}

func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

// systemInfo fills the Node's nodeInfo from the host.
func systemInfo() corev1.NodeSystemInfo {
	info := corev1.NodeSystemInfo{
		MachineID:       firstLine("/etc/machine-id", "/var/lib/dbus/machine-id"),
		SystemUUID:      strings.ToLower(firstLine("/sys/class/dmi/id/product_uuid")),
		BootID:          firstLine("/proc/sys/kernel/random/boot_id"),
		KernelVersion:   firstLine("/proc/sys/kernel/osrelease"),
		OSImage:         osImage(),
		OperatingSystem: goruntime.GOOS,
		Architecture:    goruntime.GOARCH,
	}
	return info
}

func firstLine(paths ...string) string {
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			line, _, _ := strings.Cut(string(b), "\n")
			if line = strings.TrimSpace(line); line != "" {
				return line
			}
		}
	}
	return ""
}

// osImage is PRETTY_NAME from os-release, as the kubelet reports it.
func osImage() string {
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				if u, err := strconv.Unquote(v); err == nil {
					return u
				}
				return strings.Trim(v, `"'`)
			}
		}
	}
	return goruntime.GOOS
}

// DefaultAddresses are the node's addresses when none are given: a
// non-loopback host IPv4 address (else 127.0.0.1) and the node name.
func DefaultAddresses(nodeName string) []corev1.NodeAddress {
	return []corev1.NodeAddress{
		{Type: corev1.NodeInternalIP, Address: hostIP()},
		{Type: corev1.NodeHostName, Address: nodeName},
	}
}

// hostIP is the first global unicast IPv4 address of an interface that is
// up, else 127.0.0.1.
func hostIP() string {
	ifaces, err := net.Interfaces()
	if err != nil {
		return "127.0.0.1"
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && ipn.IP.IsGlobalUnicast() {
				return ipn.IP.String()
			}
		}
	}
	return "127.0.0.1"
}
