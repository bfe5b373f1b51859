package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilexec "k8s.io/utils/exec"
)

// fakeExec answers ExecSync by the command's first word: "ok" exits 0,
// "fail" exits 1, "hang" runs until its context ends, "broken" cannot run;
// any other word exits 0 while healthy[word] is true, else 1.
type fakeExec struct {
	mu      sync.Mutex
	healthy map[string]bool
	calls   map[string]int
}

func newFakeExec() *fakeExec {
	return &fakeExec{healthy: map[string]bool{}, calls: map[string]int{}}
}

func (f *fakeExec) ExecSync(ctx context.Context, _ string, cmd []string, _ time.Duration) ([]byte, []byte, error) {
	f.mu.Lock()
	f.calls[cmd[0]]++
	healthy := f.healthy[cmd[0]]
	f.mu.Unlock()
	switch cmd[0] {
	case "ok":
		return []byte("all good"), nil, nil
	case "fail":
		return []byte("out "), []byte("err"), utilexec.CodeExitError{Err: errors.New("exit status 1"), Code: 1}
	case "hang":
		<-ctx.Done()
		return nil, nil, ctx.Err()
	case "broken":
		return nil, nil, errors.New("container not found")
	}
	if healthy {
		return []byte("healthy"), nil, nil
	}
	return []byte("unhealthy"), nil, utilexec.CodeExitError{Err: errors.New("exit status 1"), Code: 1}
}

func (f *fakeExec) set(word string, healthy bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.healthy[word] = healthy
}

func (f *fakeExec) count(word string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[word]
}

func testPod(ip string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "uid-1"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app"}}},
		Status:     corev1.PodStatus{PodIP: ip},
	}
}

func execProbe(cmd ...string) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: cmd}}}
}

// serverPort returns the port of a listener address like 127.0.0.1:1234.
func serverPort(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(strings.TrimPrefix(strings.TrimPrefix(addr, "http://"), "https://"))
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return n
}

func TestExecProbe(t *testing.T) {
	p := &Prober{Exec: newFakeExec()}
	tests := []struct {
		cmd     []string
		result  Result
		output  string
		wantErr bool
	}{
		{cmd: []string{"ok"}, result: Success, output: "all good"},
		{cmd: []string{"fail"}, result: Failure, output: "out err"},
		{cmd: []string{"hang", "10"}, result: Failure, output: `command "hang 10" timed out`},
		{cmd: []string{"broken"}, result: Unknown, wantErr: true},
	}
	for _, tt := range tests {
		r, out, err := p.run(t.Context(), testPod(""), &corev1.Container{Name: "app"}, "cid", execProbe(tt.cmd...), 20*time.Millisecond)
		if r != tt.result || out != tt.output || (err != nil) != tt.wantErr {
			t.Errorf("%v: got %v %q %v, want %v %q err=%v", tt.cmd, r, out, err, tt.result, tt.output, tt.wantErr)
		}
	}
	if _, _, err := (&Prober{}).Probe(t.Context(), testPod(""), &corev1.Container{}, "cid", execProbe("ok")); err == nil {
		t.Error("exec probe without an Execer did not fail")
	}
	if _, _, err := p.Probe(t.Context(), testPod(""), &corev1.Container{}, "cid", &corev1.Probe{}); err == nil {
		t.Error("probe without a handler did not fail")
	}
}

func TestHTTPProbe(t *testing.T) {
	var mu sync.Mutex
	var seen http.Header
	var seenHost string
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen, seenHost = r.Header.Clone(), r.Host
		mu.Unlock()
		fmt.Fprintf(w, "fine %s", r.URL.RawQuery)
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusServiceUnavailable) })
	mux.HandleFunc("/here", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://elsewhere.invalid/", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tlsSrv := httptest.NewTLSServer(mux)
	defer tlsSrv.Close()
	port := serverPort(t, srv.URL)
	c := &corev1.Container{Name: "app", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: int32(port)}}}

	get := func(path string, p intstr.IntOrString) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: p}}}
	}
	byNum := intstr.FromInt32(int32(port))
	tests := []struct {
		name    string
		probe   *corev1.Probe
		podIP   string
		result  Result
		output  string // prefix
		wantErr string
	}{
		{name: "ok", probe: get("/ok?x=1", byNum), podIP: "127.0.0.1", result: Success, output: "fine x=1"},
		{name: "named port, default host", probe: get("/ok", intstr.FromString("http")), result: Success, output: "fine"},
		{name: "status 503", probe: get("/fail", byNum), podIP: "127.0.0.1", result: Failure, output: "HTTP probe failed with statuscode: 503"},
		{name: "same-host redirect followed", probe: get("/here", byNum), podIP: "127.0.0.1", result: Success, output: "fine"},
		{name: "other-host redirect not followed", probe: get("/away", byNum), podIP: "127.0.0.1", result: Success, output: "Probe terminated redirects, Response body: "},
		{name: "redirect loop", probe: get("/loop", byNum), podIP: "127.0.0.1", result: Failure, output: `Get "/loop": stopped after 10 redirects`},
		{name: "timeout", probe: get("/slow", byNum), podIP: "127.0.0.1", result: Failure, output: `Get "http://127.0.0.1:` + strconv.Itoa(port) + `/slow": context deadline exceeded`},
		{name: "refused", probe: get("/", intstr.FromInt32(1)), podIP: "127.0.0.1", result: Failure, output: `Get "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused`},
		{name: "unknown port name", probe: get("/", intstr.FromString("nope")), result: Unknown, wantErr: `probe: port nope not found in container "app"`},
		{name: "https", podIP: "127.0.0.1", result: Success, output: "fine",
			probe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
				Path: "/ok", Scheme: corev1.URISchemeHTTPS, Port: intstr.FromInt32(int32(serverPort(t, tlsSrv.URL)))}}}},
	}
	p := &Prober{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, out, err := p.run(t.Context(), testPod(tt.podIP), c, "cid", tt.probe, 300*time.Millisecond)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || r != tt.result || !strings.HasPrefix(out, tt.output) {
				t.Errorf("got %v %q %v, want %v %q…", r, out, err, tt.result, tt.output)
			}
		})
	}

	// Headers: custom ones are sent, Host sets the host, defaults fill in.
	pr := get("/ok", byNum)
	pr.HTTPGet.HTTPHeaders = []corev1.HTTPHeader{{Name: "X-Check", Value: "1"}, {Name: "Host", Value: "app.example"}, {Name: "Accept", Value: ""}}
	if r, _, err := p.Probe(t.Context(), testPod("127.0.0.1"), c, "cid", pr); r != Success || err != nil {
		t.Fatalf("probe with headers: %v %v", r, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen.Get("X-Check") != "1" || seenHost != "app.example" || seen.Get("User-Agent") != "kube-probe/1.34" {
		t.Errorf("headers = %v host %q", seen, seenHost)
	}
	if _, ok := seen["Accept"]; ok {
		t.Errorf("an empty Accept header was sent: %v", seen)
	}
}

func TestTCPProbe(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	tcp := func(p int) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(int32(p))}}}
	}
	p := &Prober{}
	c := &corev1.Container{Name: "app"}
	if r, _, err := p.Probe(t.Context(), testPod("127.0.0.1"), c, "cid", tcp(port)); r != Success || err != nil {
		t.Errorf("open port: %v %v", r, err)
	}
	r, out, err := p.Probe(t.Context(), testPod("127.0.0.1"), c, "cid", tcp(1))
	if r != Failure || err != nil || !strings.Contains(out, "connection refused") {
		t.Errorf("closed port: %v %q %v", r, out, err)
	}
	if _, _, err := p.Probe(t.Context(), testPod(""), c, "cid", tcp(70000)); err == nil {
		t.Error("port 70000 accepted")
	}
}

func TestGRPCProbe(t *testing.T) {
	serve := func(withHealth bool) int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s := grpc.NewServer()
		if withHealth {
			h := health.NewServer()
			h.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
			h.SetServingStatus("db", healthpb.HealthCheckResponse_NOT_SERVING)
			healthpb.RegisterHealthServer(s, h)
		}
		go func() { _ = s.Serve(l) }()
		t.Cleanup(s.Stop)
		return l.Addr().(*net.TCPAddr).Port
	}
	healthy, bare := serve(true), serve(false)
	probe := func(port int, service string) *corev1.Probe {
		g := &corev1.GRPCAction{Port: int32(port)}
		if service != "" {
			g.Service = &service
		}
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: g}}
	}
	tests := []struct {
		name   string
		probe  *corev1.Probe
		result Result
		output string // prefix
	}{
		{"serving", probe(healthy, ""), Success, "service healthy"},
		{"not serving", probe(healthy, "db"), Failure, `service unhealthy (responded with "NOT_SERVING")`},
		{"unknown service", probe(healthy, "nope"), Failure, "error: health rpc probe failed: rpc error: code = NotFound"},
		{"no health service", probe(bare, ""), Failure, "error: this server does not implement the grpc health protocol (grpc.health.v1.Health)"},
		{"refused", probe(1, ""), Failure, "error: health rpc probe failed: rpc error: code = Unavailable"},
	}
	p := &Prober{}
	for _, tt := range tests {
		r, out, err := p.Probe(t.Context(), testPod("127.0.0.1"), &corev1.Container{}, "cid", tt.probe)
		if err != nil || r != tt.result || !strings.HasPrefix(out, tt.output) {
			t.Errorf("%s: got %v %q %v, want %v %q…", tt.name, r, out, err, tt.result, tt.output)
		}
	}
}

func TestRunHook(t *testing.T) {
	var hits int
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		w.WriteHeader(http.StatusInternalServerError) // hooks ignore the status
	}))
	defer srv.Close()
	port := intstr.FromInt32(int32(serverPort(t, srv.URL)))
	pod := testPod("127.0.0.1")
	c := &pod.Spec.Containers[0]
	p := &Prober{Exec: newFakeExec()}
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()

	tests := []struct {
		name    string
		ctx     context.Context
		h       *corev1.LifecycleHandler
		wantMsg string // prefix; "" means success
	}{
		{name: "exec ok", h: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"ok"}}}},
		{name: "exec fails", h: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"fail", "now"}}},
			wantMsg: `Exec lifecycle hook ([fail now]) for Container "app" in Pod "web_default(uid-1)" failed - error: exit status 1, message: "out err"`},
		{name: "http", h: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/stop", Port: port}}},
		{name: "http refused", h: &corev1.LifecycleHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/stop", Port: intstr.FromInt32(1)}},
			wantMsg: `HTTP lifecycle hook (/stop) for Container "app" in Pod "web_default(uid-1)" failed - error: Get "http://127.0.0.1:1/stop"`},
		{name: "sleep", h: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 0}}},
		{name: "sleep cut short", ctx: cancelled, h: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 5}},
			wantMsg: `Sleep lifecycle hook (5) for Container "app" in Pod "web_default(uid-1)" failed - error: container terminated before sleep hook finished`},
		{name: "none", h: &corev1.LifecycleHandler{}, wantMsg: "Cannot run handler: "},
	}
	for _, tt := range tests {
		ctx := tt.ctx
		if ctx == nil {
			ctx = t.Context()
		}
		msg, err := p.RunHook(ctx, pod, c, "cid", tt.h)
		if tt.wantMsg == "" {
			if err != nil || msg != "" {
				t.Errorf("%s: %q %v", tt.name, msg, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(msg, tt.wantMsg) {
			t.Errorf("%s: msg = %q (err %v)\nwant %q…", tt.name, msg, err, tt.wantMsg)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if hits != 1 {
		t.Errorf("http hook hit the server %d times, want 1", hits)
	}
}
