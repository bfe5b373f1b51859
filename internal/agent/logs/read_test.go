package logs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

var base = time.Date(2024, 1, 2, 3, 4, 5, 1, time.UTC)

// at is the time of the i-th record of a test log.
func at(i int) time.Time { return base.Add(time.Duration(i) * time.Second) }

// rec is one CRI log line written at(i).
func rec(i int, stream, tag, content string) string {
	return fmt.Sprintf("%s %s %s %s\n", at(i).Format(time.RFC3339Nano), stream, tag, content)
}

// sample has fragments, both streams, a line that is no record and an
// unfinished last line.
var sample = rec(0, "stdout", "F", "one") +
	rec(1, "stderr", "F", "err one") +
	rec(2, "stdout", "P", "tw") +
	rec(3, "stdout", "P", "o ") +
	rec(4, "stdout", "F", "halves") +
	"not a record\n" +
	rec(6, "stderr", "F", "err two") +
	strings.TrimSuffix(rec(7, "stdout", "F", "three"), "\n")

func writeLog(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "0.log")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRead(t *testing.T) {
	ts := func(i int) string { return at(i).Format(time.RFC3339Nano) + " " }
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{name: "all", want: "one\nerr one\ntwo halves\nerr two\nthree\n"},
		{name: "stdout", o: Options{Stream: corev1.LogStreamStdout}, want: "one\ntwo halves\nthree\n"},
		{name: "stderr", o: Options{Stream: corev1.LogStreamStderr}, want: "err one\nerr two\n"},
		{name: "All", o: Options{Stream: corev1.LogStreamAll}, want: "one\nerr one\ntwo halves\nerr two\nthree\n"},
		{name: "timestamps once per line", o: Options{Timestamps: true},
			want: ts(0) + "one\n" + ts(1) + "err one\n" + ts(2) + "two halves\n" + ts(6) + "err two\n" + ts(7) + "three\n"},
		{name: "tail 0", o: Options{TailLines: ptr.To[int64](0)}, want: ""},
		{name: "tail 1", o: Options{TailLines: ptr.To[int64](1)}, want: "three\n"},
		{name: "tail 3 counts a split line once", o: Options{TailLines: ptr.To[int64](3)}, want: "two halves\nerr two\nthree\n"},
		{name: "tail more than there is", o: Options{TailLines: ptr.To[int64](100)}, want: "one\nerr one\ntwo halves\nerr two\nthree\n"},
		{name: "tail of one stream", o: Options{TailLines: ptr.To[int64](2), Stream: corev1.LogStreamStdout}, want: "two halves\nthree\n"},
		{name: "since", o: Options{Since: at(6)}, want: "err two\nthree\n"},
		{name: "since and tail", o: Options{Since: at(6), TailLines: ptr.To[int64](5)}, want: "err two\nthree\n"},
		{name: "limit inside a line", o: Options{LimitBytes: 6}, want: "one\ner"},
		{name: "limit at a line end", o: Options{LimitBytes: 4}, want: "one\n"},
		{name: "limit counts timestamps", o: Options{LimitBytes: 10, Timestamps: true}, want: ts(0)[:10]},
	}
	path := writeLog(t, sample)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := Read(t.Context(), path, tc.o, &out); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Fatalf("got\n%q\nwant\n%q", out.String(), tc.want)
			}
		})
	}
}

func TestReadMissingFile(t *testing.T) {
	var out bytes.Buffer
	err := Read(t.Context(), filepath.Join(t.TempDir(), "0.log"), Options{}, &out)
	if !os.IsNotExist(err) && !strings.Contains(fmt.Sprint(err), "no such file") {
		t.Fatalf("err = %v", err)
	}
}

func TestFromPodLogOptions(t *testing.T) {
	now := base
	tests := []struct {
		name string
		p    corev1.PodLogOptions
		want Options
	}{
		{name: "empty"},
		{name: "sinceSeconds", p: corev1.PodLogOptions{SinceSeconds: ptr.To[int64](60)}, want: Options{Since: now.Add(-time.Minute)}},
		{name: "sinceTime", p: corev1.PodLogOptions{SinceTime: &metav1.Time{Time: at(-5)}}, want: Options{Since: at(-5)}},
		{name: "the rest", p: corev1.PodLogOptions{Follow: true, Timestamps: true, TailLines: ptr.To[int64](3),
			LimitBytes: ptr.To[int64](9), Stream: ptr.To(corev1.LogStreamStderr)},
			want: Options{Follow: true, Timestamps: true, TailLines: ptr.To[int64](3), LimitBytes: 9, Stream: corev1.LogStreamStderr}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := FromPodLogOptions(&tc.p, now)
			if got.Follow != tc.want.Follow || got.Timestamps != tc.want.Timestamps || !got.Since.Equal(tc.want.Since) ||
				got.LimitBytes != tc.want.LimitBytes || got.Stream != tc.want.Stream ||
				ptr.Deref(got.TailLines, -1) != ptr.Deref(tc.want.TailLines, -1) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// syncBuffer collects what a following Read writes while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until the buffer holds want.
func (b *syncBuffer) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for b.String() != want {
		if time.Now().After(deadline) {
			t.Fatalf("got\n%q\nwant\n%q", b.String(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
