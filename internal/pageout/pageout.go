// Package pageout hands the pages of the executable that only start-up
// touched back to the kernel.
//
// skiff is one large binary (it embeds kubectl and etcd). Go runs the
// initialiser of every linked package before main, and those touch code and
// data spread over the whole binary; the kernel then keeps those pages
// mapped, so a long-running process carries tens of megabytes of resident
// file pages that it will not use again. They are clean and shared, and the
// kernel would reclaim them under pressure, but until then they count as
// the process's RSS and, inside a memory-limited cgroup, as its memory.
//
// Executable asks the kernel (madvise MADV_PAGEOUT) to drop the resident
// pages of the binary's read-only mappings now; pages the process still
// uses fault back in from the page cache or the file when it next touches
// them. Writable mappings are left alone.
package pageout

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Executable pages out the read-only mappings of the running binary and
// returns how many bytes of address space it advised.
func Executable() (int64, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("pageout: %w", err)
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, fmt.Errorf("pageout: %w", err)
	}
	defer f.Close()
	var total int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		start, end, ok := readOnlyMappingOf(sc.Text(), exe)
		if !ok {
			continue
		}
		// The range is a mapping, not Go memory: pass it to the kernel as
		// numbers rather than as a slice.
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_PAGEOUT); errno != 0 {
			return total, fmt.Errorf("pageout: madvise: %w", errno)
		}
		total += int64(end - start)
	}
	return total, sc.Err()
}

// readOnlyMappingOf parses a /proc/self/maps line and reports the range of
// a mapping of path that is not writable.
func readOnlyMappingOf(line, path string) (start, end uintptr, ok bool) {
	f := strings.Fields(line)
	if len(f) < 6 || f[5] != path || strings.Contains(f[1], "w") {
		return 0, 0, false
	}
	from, to, found := strings.Cut(f[0], "-")
	if !found {
		return 0, 0, false
	}
	s, err1 := strconv.ParseUint(from, 16, 64)
	e, err2 := strconv.ParseUint(to, 16, 64)
	if err1 != nil || err2 != nil || e <= s {
		return 0, 0, false
	}
	return uintptr(s), uintptr(e), true
}
