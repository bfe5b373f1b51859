package pageout

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestReadOnlyMappingOf(t *testing.T) {
	for _, tc := range []struct {
		line string
		ok   bool
	}{
		{"00400000-01c00000 r-xp 00000000 08:01 42 /usr/bin/skiff", true},
		{"01c00000-02000000 r--p 01800000 08:01 42 /usr/bin/skiff", true},
		{"02000000-02100000 rw-p 01c00000 08:01 42 /usr/bin/skiff", false},
		{"00400000-01c00000 r-xp 00000000 08:01 42 /usr/bin/other", false},
		{"7f00-7f10 rw-p 00000000 00:00 0", false},
	} {
		_, _, ok := readOnlyMappingOf(tc.line, "/usr/bin/skiff")
		if ok != tc.ok {
			t.Errorf("%q: ok = %v, want %v", tc.line, ok, tc.ok)
		}
	}
}

// TestExecutableLowersFileRSS: after paging out, the process holds fewer
// resident file pages than before, and it keeps running (the code it runs
// next faults back in).
func TestExecutableLowersFileRSS(t *testing.T) {
	before := rssFile(t)
	n, err := Executable()
	if err != nil {
		t.Skipf("madvise(MADV_PAGEOUT) is not available here: %v", err)
	}
	if n == 0 {
		t.Fatal("no mapping of the executable was found")
	}
	after := rssFile(t)
	if after >= before {
		t.Errorf("RssFile %d kB before, %d kB after paging out; want less", before, after)
	}
	t.Logf("RssFile %d kB -> %d kB (%d MB advised)", before, after, n>>20)
}

func rssFile(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "RssFile:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}
