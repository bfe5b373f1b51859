package apiserver

import (
	"bufio"
	"io"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"skiff.dev/internal/agent/server/servertest"
)

func TestPodLog(t *testing.T) {
	c := startCluster(t, nil)
	web := c.writeLog(t, "web", "stdout", "one", "stderr", "two", "stdout", "three")
	prev := c.writeLog(t, "web-0", "stdout", "crashed")
	c.addPod(t, "web", "node1", nil, []string{"app"}, map[string]servertest.Container{
		"app": {ID: "web-1", LogPath: web, PreviousID: "web-0", PreviousLogPath: prev}})
	multi := c.writeLog(t, "multi-b", "stdout", "from b")
	c.addPod(t, "multi", "node1", nil, []string{"a", "b"}, map[string]servertest.Container{
		"a": {Waiting: "ContainerCreating"}, "b": {ID: "multi-b", LogPath: multi}})
	c.addPod(t, "defaulted", "node1", map[string]string{"kubectl.kubernetes.io/default-container": "b"},
		[]string{"a", "b"}, map[string]servertest.Container{"b": {ID: "multi-b", LogPath: multi}})
	c.addPod(t, "pending", "", nil, []string{"app"}, nil)
	c.addPod(t, "ghost", "node1", nil, []string{"app"}, nil)

	tests := []struct {
		name, pod string
		opts      corev1.PodLogOptions
		want      string
		code      int32
		msg       string
	}{
		{name: "all", pod: "web", want: "one\ntwo\nthree\n"},
		{name: "tail", pod: "web", opts: corev1.PodLogOptions{TailLines: ptr.To[int64](1)}, want: "three\n"},
		{name: "previous", pod: "web", opts: corev1.PodLogOptions{Previous: true}, want: "crashed\n"},
		{name: "timestamps and limit", pod: "web", opts: corev1.PodLogOptions{Timestamps: true, LimitBytes: ptr.To[int64](24)},
			want: "2024-01-02T03:04:05Z one"},
		{name: "sinceTime", pod: "web", opts: corev1.PodLogOptions{SinceTime: &metav1.Time{Time: time.Date(2024, 1, 2, 3, 4, 7, 0, time.UTC)}},
			want: "three\n"},
		{name: "named container", pod: "multi", opts: corev1.PodLogOptions{Container: "b"}, want: "from b\n"},
		{name: "default-container annotation", pod: "defaulted", want: "from b\n"},
		{name: "not scheduled", pod: "pending", want: ""},
		{name: "which container", pod: "multi", code: 400,
			msg: "a container name must be specified for pod multi, choose one of: [a b]"},
		{name: "no such container", pod: "web", opts: corev1.PodLogOptions{Container: "c"}, code: 400,
			msg: "container c is not valid for pod web"},
		{name: "waiting", pod: "multi", opts: corev1.PodLogOptions{Container: "a"}, code: 400,
			msg: `container "a" in pod "multi" is waiting to start: ContainerCreating`},
		{name: "no previous", pod: "multi", opts: corev1.PodLogOptions{Container: "b", Previous: true}, code: 400,
			msg: `previous terminated container "b" in pod "multi" not found`},
		{name: "no pod", pod: "nope", code: 404, msg: `pods "nope" not found`},
		{name: "no pod on the node", pod: "ghost", code: 404, msg: `pods "ghost" not found`},
		{name: "negative tail", pod: "web", opts: corev1.PodLogOptions{TailLines: ptr.To[int64](-1)}, code: 422,
			msg: `PodLogOptions "web" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Stream, as kubectl logs does: DoRaw does not decode errors.
			var b []byte
			stream, err := c.client.CoreV1().Pods("default").GetLogs(tc.pod, &tc.opts).Stream(t.Context())
			if err == nil {
				b, err = io.ReadAll(stream)
				stream.Close()
			}
			if tc.code != 0 {
				st, ok := err.(apierrors.APIStatus)
				if !ok || st.Status().Code != tc.code || st.Status().Message != tc.msg {
					t.Fatalf("err = %v (%#v), want %d %q", err, err, tc.code, tc.msg)
				}
				return
			}
			if err != nil || string(b) != tc.want {
				t.Fatalf("got %q, %v; want %q", b, err, tc.want)
			}
		})
	}
}

func TestPodLogFollow(t *testing.T) {
	c := startCluster(t, nil)
	path := c.writeLog(t, "web", "stdout", "one")
	c.addPod(t, "web", "node1", nil, []string{"app"}, map[string]servertest.Container{"app": {ID: "web-1", LogPath: path}})
	stream, err := c.client.CoreV1().Pods("default").GetLogs("web", &corev1.PodLogOptions{Follow: true}).Stream(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	r := bufio.NewReader(stream)
	expect := func(want string) {
		t.Helper()
		if got, err := r.ReadString('\n'); err != nil || got != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
	expect("one\n")
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(time.Now().UTC().Format(time.RFC3339Nano) + " stdout F two\n")
	f.Close()
	expect("two\n")
	c.runtime.SetRunning("web-1", false)
	if rest, err := io.ReadAll(r); err != nil || len(rest) != 0 {
		t.Fatalf("after the container stopped: %q, %v", rest, err)
	}
}

func TestPodLogOptionsQuery(t *testing.T) {
	tests := []struct {
		query string
		want  string // the agent's query, or the error
	}{
		{"", ""},
		{"follow=true&previous=1&timestamps=true&tailLines=5&limitBytes=10&sinceSeconds=60",
			"follow=true&limitBytes=10&previous=true&sinceSeconds=60&tailLines=5&timestamps=true"},
		{"sinceTime=2024-01-02T03:04:05Z&container=app&insecureSkipTLSVerifyBackend=true", "sinceTime=2024-01-02T03%3A04%3A05Z"},
		{"stream=Stderr", "stream=Stderr"},
		{"follow=maybe", `invalid value "maybe" for follow`},
		{"tailLines=x", `invalid value "x" for tailLines`},
		{"sinceTime=yesterday", `invalid value "yesterday" for sinceTime`},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			q, _ := url.ParseQuery(tc.query)
			o, err := podLogOptions(q)
			if err != nil {
				if !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				return
			}
			if got := agentLogQuery(o).Encode(); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
