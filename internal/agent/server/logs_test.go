package server

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"skiff.dev/internal/agent/server/servertest"
)

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// logLine is a CRI log line written i seconds after t0.
func logLine(i int, stream, text string) string {
	return fmt.Sprintf("%s %s F %s\n", t0.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano), stream, text)
}

// withLogs gives the app container's current and previous instances logs
// and returns the current one's path.
func withLogs(t *testing.T, a *agent) string {
	t.Helper()
	dir := t.TempDir()
	c := servertest.Container{ID: "app-1", LogPath: filepath.Join(dir, "1.log"),
		PreviousID: "app-0", PreviousLogPath: filepath.Join(dir, "0.log")}
	a.pods.Add("default", "web", "sandbox-web", map[string]servertest.Container{"app": c})
	if err := os.WriteFile(c.PreviousLogPath, []byte(logLine(0, "stdout", "crashed")), 0o600); err != nil {
		t.Fatal(err)
	}
	current := logLine(1, "stdout", "one") + logLine(2, "stderr", "two") + logLine(3, "stdout", "three")
	if err := os.WriteFile(c.LogPath, []byte(current), 0o600); err != nil {
		t.Fatal(err)
	}
	return c.LogPath
}

func get(t *testing.T, u *url.URL) (int, string) {
	t.Helper()
	resp, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestContainerLogs(t *testing.T) {
	a := startAgent(t, nil)
	withLogs(t, a)
	tests := []struct {
		name, path string
		q          url.Values
		code       int
		want       string
	}{
		{name: "all", path: "/containerLogs/default/web/app", code: 200, want: "one\ntwo\nthree\n"},
		{name: "tailLines", path: "/containerLogs/default/web/app", q: url.Values{"tailLines": {"2"}}, code: 200, want: "two\nthree\n"},
		{name: "tail, the old name", path: "/containerLogs/default/web/app", q: url.Values{"tail": {"1"}}, code: 200, want: "three\n"},
		{name: "tail all", path: "/containerLogs/default/web/app", q: url.Values{"tail": {"all"}}, code: 200, want: "one\ntwo\nthree\n"},
		{name: "previous", path: "/containerLogs/default/web/app", q: url.Values{"previous": {"true"}}, code: 200, want: "crashed\n"},
		{name: "timestamps", path: "/containerLogs/default/web/app", q: url.Values{"timestamps": {"true"}, "tailLines": {"1"}},
			code: 200, want: "2024-01-02T03:04:08Z three\n"},
		{name: "sinceTime", path: "/containerLogs/default/web/app", q: url.Values{"sinceTime": {"2024-01-02T03:04:07Z"}},
			code: 200, want: "two\nthree\n"},
		{name: "sinceSeconds", path: "/containerLogs/default/web/app", q: url.Values{"sinceSeconds": {"10"}}, code: 200},
		{name: "limitBytes", path: "/containerLogs/default/web/app", q: url.Values{"limitBytes": {"5"}}, code: 200, want: "one\nt"},
		{name: "stream", path: "/containerLogs/default/web/app", q: url.Values{"stream": {"Stderr"}}, code: 200, want: "two\n"},
		{name: "no pod", path: "/containerLogs/default/nope/app", code: 404, want: `pods "nope" not found`},
		{name: "waiting", path: "/containerLogs/default/web/init", code: 400,
			want: `container "init" in pod "web" is waiting to start: PodInitializing`},
		{name: "negative tail", path: "/containerLogs/default/web/app", q: url.Values{"tailLines": {"-1"}}, code: 400,
			want: "tailLines must be greater than or equal to 0"},
		{name: "both since", path: "/containerLogs/default/web/app", q: url.Values{"sinceSeconds": {"1"}, "sinceTime": {"2024-01-02T03:04:07Z"}},
			code: 400, want: "at most one of `sinceTime` or `sinceSeconds` may be specified"},
		{name: "bad number", path: "/containerLogs/default/web/app", q: url.Values{"limitBytes": {"x"}}, code: 400, want: `invalid limitBytes "x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, a.at(tc.path, tc.q))
			if code != tc.code || body != tc.want {
				t.Fatalf("got %d %q, want %d %q", code, body, tc.code, tc.want)
			}
		})
	}
}

func TestContainerLogsFollow(t *testing.T) {
	a := startAgent(t, nil)
	path := withLogs(t, a)
	resp, err := http.Get(a.at("/containerLogs/default/web/app", url.Values{"follow": {"true"}, "tailLines": {"1"}}).String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	expect := func(want string) {
		t.Helper()
		got, err := r.ReadString('\n')
		if err != nil || got != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
	expect("three\n")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(logLine(4, "stdout", "four"))
	f.Close()
	expect("four\n")
	// The container stops: the stream ends.
	a.runtime.SetRunning("app-1", false)
	if rest, err := io.ReadAll(r); err != nil || len(rest) != 0 {
		t.Fatalf("after the stop: %q, %v", rest, err)
	}
}

func TestHealthzAndAuthorize(t *testing.T) {
	a := startAgent(t, func(r *http.Request) error {
		if strings.HasPrefix(r.URL.Path, "/containerLogs/") {
			return errors.New(`user "x" may not read logs`)
		}
		return nil
	})
	withLogs(t, a)
	if code, body := get(t, a.at("/healthz", nil)); code != 200 || body != "ok" {
		t.Fatalf("healthz: %d %q", code, body)
	}
	if code, body := get(t, a.at("/containerLogs/default/web/app", nil)); code != 403 || body != `user "x" may not read logs` {
		t.Fatalf("logs: %d %q", code, body)
	}
	if code, _ := get(t, a.at("/nothing/here", nil)); code != 404 {
		t.Fatalf("unknown path: %d", code)
	}
}
