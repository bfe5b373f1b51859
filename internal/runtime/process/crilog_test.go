package process

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func testLog(t *testing.T, maxSize int64, maxFiles int) *logFile {
	t.Helper()
	l, err := openLog(filepath.Join(t.TempDir(), "c", "0.log"), maxSize, maxFiles)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2016, 10, 6, 0, 17, 9, 669794202, time.UTC)
	l.now = func() time.Time { return now }
	t.Cleanup(func() { l.Close() })
	return l
}

func TestLineWriter(t *testing.T) {
	long := strings.Repeat("x", maxLogLine)
	for _, tc := range []struct {
		name   string
		writes []string
		want   []string
	}{
		{"lines", []string{"a\nb\n"}, []string{"F a", "F b"}},
		{"a line in pieces", []string{"hel", "lo\n"}, []string{"F hello"}},
		{"crlf", []string{"dos\r\n"}, []string{"F dos"}},
		{"empty line", []string{"\n"}, []string{"F "}},
		{"unfinished line at the end", []string{"a\nrest"}, []string{"F a", "F rest"}},
		{"too long", []string{long + "yz\n"}, []string{"P " + long, "F yz"}},
		{"exactly the limit", []string{long + "\n"}, []string{"F " + long}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := testLog(t, 0, 1)
			w := &lineWriter{log: l, stream: "stdout"}
			for _, s := range tc.writes {
				w.Write([]byte(s))
			}
			w.Flush()
			data, _ := os.ReadFile(l.path)
			var got []string
			for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
				got = append(got, strings.TrimPrefix(line, "2016-10-06T00:17:09.669794202Z stdout "))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("entries = %.60q, want %.60q", got, tc.want)
			}
		})
	}
}

func TestLogRotation(t *testing.T) {
	l := testLog(t, 300, 3)
	w := &lineWriter{log: l, stream: "stderr"}
	for i := range 40 {
		fmt.Fprintf(w, "line %02d\n", i)
	}
	rotated := rotatedLogs(l.path)
	if len(rotated) != 2 {
		t.Fatalf("rotated files = %v, want the 2 newest (3 files with the live one)", rotated)
	}
	name := regexp.MustCompile(`/0\.log\.20161006-001709(\.\d+)?$`)
	var lines []string
	for _, f := range append(rotated, l.path) {
		if !name.MatchString(f) && f != l.path {
			t.Errorf("rotated file %s is not named <log>.<20060102-150405>", f)
		}
		data, _ := os.ReadFile(f)
		if f != l.path && len(data) < 300 {
			t.Errorf("rotated file %s has %d bytes, less than the rotation size", f, len(data))
		}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if line != "" {
				lines = append(lines, line[strings.LastIndex(line, " F ")+3:])
			}
		}
	}
	// What is kept is the end of the log, in order.
	if len(lines) == 0 || lines[len(lines)-1] != "line 39" {
		t.Fatalf("kept lines end with %q, want line 39", lines)
	}
	for i := 1; i < len(lines); i++ {
		if lines[i] <= lines[i-1] {
			t.Errorf("kept lines out of order: %q before %q", lines[i-1], lines[i])
		}
	}
}

func TestRotatedLogsSortByTimeThenCounter(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "0.log")
	names := []string{".20240101-000001.10", ".20240101-000001", ".20240101-000001.9", ".20231231-235959", ".20240101-000001.1"}
	for _, n := range names {
		os.WriteFile(base+n, nil, 0o644)
	}
	var got []string
	for _, f := range rotatedLogs(base) {
		got = append(got, strings.TrimPrefix(f, base))
	}
	want := []string{".20231231-235959", ".20240101-000001", ".20240101-000001.1", ".20240101-000001.9", ".20240101-000001.10"}
	if !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
}
