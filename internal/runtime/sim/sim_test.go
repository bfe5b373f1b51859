package sim

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	clocktesting "k8s.io/utils/clock/testing"
)

var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func newTestRuntime(t testing.TB, opts Options) (*Runtime, *clocktesting.FakePassiveClock) {
	t.Helper()
	clock := clocktesting.NewFakePassiveClock(epoch)
	opts.Clock = clock
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return r, clock
}

func podConfig(name string, annotations map[string]string) *runtimeapi.PodSandboxConfig {
	return &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: name, Namespace: "default", Uid: "uid-" + name},
		Labels:       map[string]string{"io.kubernetes.pod.name": name},
		Annotations:  annotations,
		LogDirectory: "/var/log/pods/" + name,
	}
}

func containerConfig(name string, annotations map[string]string) *runtimeapi.ContainerConfig {
	return &runtimeapi.ContainerConfig{
		Metadata:    &runtimeapi.ContainerMetadata{Name: name},
		Image:       &runtimeapi.ImageSpec{Image: "registry.local/app:1"},
		Labels:      map[string]string{"io.kubernetes.container.name": name},
		Annotations: annotations,
		LogPath:     name + "/0.log",
	}
}

// run creates a pod with one started container.
func run(t testing.TB, r *Runtime, pod *runtimeapi.PodSandboxConfig, c *runtimeapi.ContainerConfig) (string, string) {
	t.Helper()
	sb, id, err := tryRun(r, pod, c)
	if err != nil {
		t.Fatal(err)
	}
	return sb, id
}

func tryRun(r *Runtime, pod *runtimeapi.PodSandboxConfig, c *runtimeapi.ContainerConfig) (string, string, error) {
	ctx := context.Background()
	sb, err := r.RunPodSandbox(ctx, pod, "")
	if err != nil {
		return "", "", err
	}
	id, err := r.CreateContainer(ctx, sb, c, pod)
	if err != nil {
		return "", "", err
	}
	return sb, id, r.StartContainer(ctx, id)
}

func statusOf(t *testing.T, r *Runtime, id string) *runtimeapi.ContainerStatus {
	t.Helper()
	resp, err := r.ContainerStatus(t.Context(), id, false)
	if err != nil {
		t.Fatal(err)
	}
	return resp.Status
}

func TestContainerEndsAsItsAnnotationsSay(t *testing.T) {
	for _, tc := range []struct {
		name           string
		container, pod map[string]string
		// what the container is at 1s and at 3s after its start
		at1s, at3s runtimeapi.ContainerState
		code       int32
		reason     string
		finished   time.Duration // after start, when it exits
	}{
		{name: "runs until stopped", at1s: running, at3s: running},
		{name: "exit code alone exits at once", container: map[string]string{AnnotationExitCode: "3"}, at1s: exited, at3s: exited, code: 3, reason: "Error"},
		{name: "run for alone completes", container: map[string]string{AnnotationRunFor: "2s"}, at1s: running, at3s: exited, reason: "Completed", finished: 2 * time.Second},
		{name: "both", container: map[string]string{AnnotationRunFor: "2s", AnnotationExitCode: "1"}, at1s: running, at3s: exited, code: 1, reason: "Error", finished: 2 * time.Second},
		{name: "pod-wide", pod: map[string]string{AnnotationRunFor: "500ms"}, at1s: exited, at3s: exited, reason: "Completed", finished: 500 * time.Millisecond},
		{name: "pod, for this container", pod: map[string]string{AnnotationExitCode + ".app": "4", AnnotationExitCode: "9"}, at1s: exited, at3s: exited, code: 4, reason: "Error"},
		{name: "pod, for another container", pod: map[string]string{AnnotationExitCode + ".other": "4"}, at1s: running, at3s: running},
		{name: "the container's own beats the pod's", container: map[string]string{AnnotationExitCode: "0"}, pod: map[string]string{AnnotationExitCode + ".app": "4"}, at1s: exited, at3s: exited, reason: "Completed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, clock := newTestRuntime(t, Options{})
			_, id := run(t, r, podConfig("p", tc.pod), containerConfig("app", tc.container))
			clock.SetTime(epoch.Add(time.Second))
			if st := statusOf(t, r, id); st.State != tc.at1s {
				t.Errorf("at 1s: %s, want %s", st.State, tc.at1s)
			}
			clock.SetTime(epoch.Add(3 * time.Second))
			st := statusOf(t, r, id)
			if st.State != tc.at3s {
				t.Fatalf("at 3s: %s, want %s", st.State, tc.at3s)
			}
			if tc.at3s != exited {
				return
			}
			if st.ExitCode != tc.code || st.Reason != tc.reason {
				t.Errorf("exit %d %q, want %d %q", st.ExitCode, st.Reason, tc.code, tc.reason)
			}
			if got := time.Duration(st.FinishedAt - st.StartedAt); got != tc.finished {
				t.Errorf("finished %s after its start, want %s", got, tc.finished)
			}
		})
	}
}

const (
	running = runtimeapi.ContainerState_CONTAINER_RUNNING
	exited  = runtimeapi.ContainerState_CONTAINER_EXITED
	created = runtimeapi.ContainerState_CONTAINER_CREATED
)

func TestBadAnnotationsAreRefused(t *testing.T) {
	r, _ := newTestRuntime(t, Options{})
	sb, err := r.RunPodSandbox(t.Context(), podConfig("p", nil), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []map[string]string{
		{AnnotationExitCode: "many"},
		{AnnotationExitCode: "300"},
		{AnnotationRunFor: "soon"},
		{AnnotationRunFor: "-1s"},
	} {
		if _, err := r.CreateContainer(t.Context(), sb, containerConfig("c", a), nil); status.Code(err) != codes.InvalidArgument {
			t.Errorf("annotations %v: err = %v, want InvalidArgument", a, err)
		}
	}
}

func TestLifecycle(t *testing.T) {
	r, clock := newTestRuntime(t, Options{HostIP: "192.0.2.7"})
	ctx := t.Context()
	pod := podConfig("web", nil)
	sb, err := r.RunPodSandbox(ctx, pod, "")
	if err != nil {
		t.Fatal(err)
	}
	id, err := r.CreateContainer(ctx, sb, containerConfig("app", nil), pod)
	if err != nil {
		t.Fatal(err)
	}
	if st := statusOf(t, r, id); st.State != created || st.LogPath != "/var/log/pods/web/app/0.log" || st.Image.Image != "registry.local/app:1" {
		t.Errorf("after create: %v", st)
	}
	if _, _, err := r.ExecSync(ctx, id, []string{"true"}, time.Second); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("ExecSync before start: err = %v, want FailedPrecondition", err)
	}
	if err := r.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := r.StartContainer(ctx, id); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("second start: err = %v, want FailedPrecondition", err)
	}
	if _, _, err := r.ExecSync(ctx, id, []string{"true"}, time.Second); err != nil {
		t.Errorf("ExecSync of a running container: %v", err)
	}
	clock.SetTime(epoch.Add(time.Minute))
	if err := r.StopContainer(ctx, id, 30); err != nil {
		t.Fatal(err)
	}
	st := statusOf(t, r, id)
	if st.State != exited || st.ExitCode != 0 || st.FinishedAt != epoch.Add(time.Minute).UnixNano() {
		t.Errorf("after stop: %v", st)
	}

	sbs, err := r.PodSandboxStatus(ctx, sb, false)
	if err != nil || sbs.Status.Network.Ip != "192.0.2.7" || sbs.Status.State != runtimeapi.PodSandboxState_SANDBOX_READY {
		t.Errorf("sandbox status = %v (%v)", sbs, err)
	}
	if err := r.StopPodSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateContainer(ctx, sb, containerConfig("late", nil), pod); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("create in a stopped sandbox: err = %v, want FailedPrecondition", err)
	}
	if err := r.RemovePodSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	if list, _ := r.ListContainers(ctx, nil); len(list) != 0 {
		t.Errorf("containers after the sandbox was removed: %v", list)
	}
	if err := r.RemovePodSandbox(ctx, sb); err != nil {
		t.Errorf("removing twice: %v", err)
	}
}

func TestStopPodSandboxStopsItsContainers(t *testing.T) {
	r, _ := newTestRuntime(t, Options{})
	sb, id := run(t, r, podConfig("a", nil), containerConfig("app", nil))
	_, other := run(t, r, podConfig("b", nil), containerConfig("app", nil))
	if err := r.StopPodSandbox(t.Context(), sb); err != nil {
		t.Fatal(err)
	}
	if s := statusOf(t, r, id).State; s != exited {
		t.Errorf("container of the stopped sandbox: %s", s)
	}
	if s := statusOf(t, r, other).State; s != running {
		t.Errorf("container of another sandbox: %s", s)
	}
	notReady, _ := r.ListPodSandbox(t.Context(), &runtimeapi.PodSandboxFilter{State: &runtimeapi.PodSandboxStateValue{State: runtimeapi.PodSandboxState_SANDBOX_NOTREADY}})
	if len(notReady) != 1 || notReady[0].Id != sb {
		t.Errorf("not ready sandboxes = %v, want %s", notReady, sb)
	}
}

func TestListFilters(t *testing.T) {
	r, clock := newTestRuntime(t, Options{})
	sb, long := run(t, r, podConfig("a", nil), containerConfig("long", nil))
	_, short := run(t, r, podConfig("b", nil), containerConfig("short", map[string]string{AnnotationRunFor: "1s"}))
	clock.SetTime(epoch.Add(2 * time.Second))
	for _, tc := range []struct {
		name   string
		filter *runtimeapi.ContainerFilter
		want   []string
	}{
		{"all", nil, []string{long, short}},
		{"sandbox", &runtimeapi.ContainerFilter{PodSandboxId: sb}, []string{long}},
		{"exited, by the clock", &runtimeapi.ContainerFilter{State: &runtimeapi.ContainerStateValue{State: exited}}, []string{short}},
		{"label", &runtimeapi.ContainerFilter{LabelSelector: map[string]string{"io.kubernetes.container.name": "long"}}, []string{long}},
		{"id prefix", &runtimeapi.ContainerFilter{Id: short[:10]}, []string{short}},
	} {
		list, err := r.ListContainers(t.Context(), tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, c := range list {
			got[c.Id] = true
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: got %d containers, want %d", tc.name, len(got), len(tc.want))
		}
		for _, id := range tc.want {
			if !got[id] {
				t.Errorf("%s: %s missing", tc.name, id)
			}
		}
	}
}

func TestPodCIDRGivesEachSandboxItsOwnIP(t *testing.T) {
	r, _ := newTestRuntime(t, Options{PodCIDR: "10.1.0.0/29"})
	ctx := t.Context()
	var ids []string
	seen := map[string]bool{}
	for i := range 5 { // .2 to .6: .0 is the network, .1 the gateway, .7 broadcast
		id, err := r.RunPodSandbox(ctx, podConfig(fmt.Sprint("p", i), nil), "")
		if err != nil {
			t.Fatalf("sandbox %d: %v", i, err)
		}
		st, _ := r.PodSandboxStatus(ctx, id, false)
		ip := st.Status.Network.Ip
		if seen[ip] || ip == "10.1.0.0" || ip == "10.1.0.1" || ip == "10.1.0.7" {
			t.Errorf("sandbox %d got %s", i, ip)
		}
		seen[ip] = true
		ids = append(ids, id)
	}
	if _, err := r.RunPodSandbox(ctx, podConfig("full", nil), ""); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("a sixth sandbox: err = %v, want ResourceExhausted", err)
	}
	r.RemovePodSandbox(ctx, ids[2])
	if _, err := r.RunPodSandbox(ctx, podConfig("again", nil), ""); err != nil {
		t.Errorf("after a removal: %v", err)
	}
}

func TestMissingAndUnsupported(t *testing.T) {
	r, _ := newTestRuntime(t, Options{})
	ctx := t.Context()
	_, e1 := r.ContainerStatus(ctx, "x", false)
	_, e2 := r.PodSandboxStatus(ctx, "x", false)
	_, e3 := r.CreateContainer(ctx, "x", containerConfig("c", nil), nil)
	_, _, e4 := r.ExecSync(ctx, "x", nil, 0)
	for i, err := range []error{e1, e2, e3, e4, r.StartContainer(ctx, "x"), r.StopContainer(ctx, "x", 0), r.StopPodSandbox(ctx, "x")} {
		if status.Code(err) != codes.NotFound {
			t.Errorf("call %d: err = %v, want NotFound", i, err)
		}
	}
	_, e1 = r.Exec(ctx, &runtimeapi.ExecRequest{})
	_, e2 = r.Attach(ctx, &runtimeapi.AttachRequest{})
	_, e3 = r.PortForward(ctx, &runtimeapi.PortForwardRequest{})
	for i, err := range []error{e1, e2, e3} {
		if status.Code(err) != codes.Unimplemented {
			t.Errorf("streaming call %d: err = %v, want Unimplemented", i, err)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	r, clock := newTestRuntime(t, Options{PodCIDR: "10.2.0.0/16"})
	const workers, pods = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range pods {
				annotations := map[string]string{}
				if i%2 == 0 {
					annotations[AnnotationRunFor] = "1s"
				}
				sb, id, err := tryRun(r, podConfig(fmt.Sprintf("w%d-%d", w, i), nil), containerConfig("app", annotations))
				if err != nil {
					t.Error(err)
					return
				}
				r.ListContainers(context.Background(), &runtimeapi.ContainerFilter{PodSandboxId: sb})
				r.ContainerStatus(context.Background(), id, false)
				if i%10 == 0 {
					clock.SetTime(clock.Now().Add(100 * time.Millisecond))
				}
			}
		}()
	}
	wg.Wait()
	clock.SetTime(clock.Now().Add(time.Hour))
	list, _ := r.ListContainers(t.Context(), nil)
	done := 0
	for _, c := range list {
		if c.State == exited {
			done++
		}
	}
	if len(list) != workers*pods || done != workers*pods/2 {
		t.Errorf("%d containers, %d exited; want %d and %d", len(list), done, workers*pods, workers*pods/2)
	}
}

// TestMemoryPerPod keeps the footprint of a hollow pod small: it is what
// lets one process simulate many nodes.
func TestMemoryPerPod(t *testing.T) {
	r, _ := newTestRuntime(t, Options{PodCIDR: "10.0.0.0/8"})
	const pods = 10000
	before := heapInUse()
	for i := range pods {
		run(t, r, podConfig(fmt.Sprint("pod-", i), nil), containerConfig("app", nil))
	}
	perPod := (heapInUse() - before) / pods
	t.Logf("%d bytes per hollow pod (a sandbox and a container, with kubelet-like labels)", perPod)
	if perPod > 8<<10 {
		t.Errorf("a hollow pod takes %d bytes, want under 8 KiB", perPod)
	}
	runtime.KeepAlive(r)
}

func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

func BenchmarkPodLifecycle(b *testing.B) {
	r, _ := newTestRuntime(b, Options{})
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		pod := podConfig(fmt.Sprint("p", i), nil)
		sb, id := run(b, r, pod, containerConfig("app", nil))
		r.ContainerStatus(ctx, id, false)
		r.StopPodSandbox(ctx, sb)
		r.RemovePodSandbox(ctx, sb)
	}
}
