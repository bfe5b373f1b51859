package logs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/utils/ptr"
)

// appendLog appends to the log at path.
func appendLog(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// follow starts a following Read of path and returns its output, a switch
// that stops the container, and the Read's result.
func follow(t *testing.T, ctx context.Context, path string, o Options) (*syncBuffer, *atomic.Bool, <-chan error) {
	t.Helper()
	running := &atomic.Bool{}
	running.Store(true)
	o.Follow, o.Poll = true, 5*time.Millisecond
	o.Running = func(context.Context) bool { return running.Load() }
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- Read(ctx, path, o, out) }()
	return out, running, done
}

func wait(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Read did not return")
		return nil
	}
}

func TestFollowUntilTheContainerStops(t *testing.T) {
	path := writeLog(t, rec(0, "stdout", "F", "old"))
	out, running, done := follow(t, t.Context(), path, Options{TailLines: ptr.To[int64](0)})
	time.Sleep(20 * time.Millisecond)
	appendLog(t, path, rec(1, "stdout", "P", "new "))
	appendLog(t, path, rec(2, "stdout", "F", "line"))
	out.waitFor(t, "new line\n")
	// A line written just before the container stops still comes out.
	appendLog(t, path, rec(3, "stderr", "F", "last"))
	running.Store(false)
	if err := wait(t, done); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "new line\nlast\n" {
		t.Fatalf("got %q", got)
	}
}

func TestFollowCompletesAnUnfinishedLine(t *testing.T) {
	line := rec(0, "stdout", "F", "slow writer")
	path := writeLog(t, line[:20])
	out, running, done := follow(t, t.Context(), path, Options{})
	time.Sleep(20 * time.Millisecond)
	appendLog(t, path, line[20:])
	out.waitFor(t, "slow writer\n")
	running.Store(false)
	if err := wait(t, done); err != nil {
		t.Fatal(err)
	}
}

func TestFollowAcrossRotation(t *testing.T) {
	path := writeLog(t, rec(0, "stdout", "F", "first file"))
	out, running, done := follow(t, t.Context(), path, Options{Timestamps: true})
	ts := func(i int) string { return at(i).Format(time.RFC3339Nano) + " " }
	out.waitFor(t, ts(0)+"first file\n")
	// The runtime writes a last line, renames the file and starts a new one.
	appendLog(t, path, rec(1, "stdout", "F", "end of first"))
	if err := os.Rename(path, filepath.Join(filepath.Dir(path), "0.log.20240102-030406")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	appendLog(t, path, rec(2, "stdout", "F", "second file"))
	out.waitFor(t, ts(0)+"first file\n"+ts(1)+"end of first\n"+ts(2)+"second file\n")
	// And once more.
	if err := os.Rename(path, filepath.Join(filepath.Dir(path), "0.log.20240102-030407")); err != nil {
		t.Fatal(err)
	}
	appendLog(t, path, rec(3, "stdout", "F", "third file"))
	running.Store(false)
	if err := wait(t, done); err != nil {
		t.Fatal(err)
	}
	want := ts(0) + "first file\n" + ts(1) + "end of first\n" + ts(2) + "second file\n" + ts(3) + "third file\n"
	if got := out.String(); got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}

func TestFollowEndsWithTheContext(t *testing.T) {
	path := writeLog(t, rec(0, "stdout", "F", "x"))
	ctx, cancel := context.WithCancel(t.Context())
	out, _, done := follow(t, ctx, path, Options{})
	out.waitFor(t, "x\n")
	cancel()
	if err := wait(t, done); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestFollowOfAStoppedContainerReadsOnce(t *testing.T) {
	path := writeLog(t, sample)
	out, running, done := follow(t, t.Context(), path, Options{TailLines: ptr.To[int64](1)})
	running.Store(false)
	if err := wait(t, done); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "three\n" {
		t.Fatalf("got %q", got)
	}
}

func TestFollowStopsAtTheLimit(t *testing.T) {
	path := writeLog(t, rec(0, "stdout", "F", "0123456789"))
	out, _, done := follow(t, t.Context(), path, Options{LimitBytes: 15})
	appendLog(t, path, rec(1, "stdout", "F", "abcdefghij"))
	if err := wait(t, done); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "0123456789\nabcd" {
		t.Fatalf("got %q", got)
	}
}
