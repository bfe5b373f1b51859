package cri

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"skiff.dev/internal/images"
	"skiff.dev/internal/runtime"
)

// testPodCIDR is the test's pod network; the test skips if a host route
// overlaps it.
const testPodCIDR = "10.88.0.0/24"

// testBridge is the tests' own bridge: a node running on the same host
// (an end-to-end test, say) uses CNIBridge with another pod CIDR.
const testBridge = "skifftest0"

// startTestContainerd serves skiff's pause and busybox images from a local
// registry, starts a containerd under a temporary directory that pulls from
// it, and registers the cleanup of everything the test may leave behind.
func startTestContainerd(t *testing.T, ctx context.Context) (*Containerd, layout) {
	if why := integrationRequirements(); why != "" {
		t.Skip("containerd integration test:", why)
	}
	cidr := netip.MustParsePrefix(testPodCIDR)
	if clash := routeClash(cidr); clash != "" {
		t.Skip("containerd integration test:", clash)
	}
	pause, err := images.Pause()
	if err != nil {
		t.Fatal(err)
	}
	busybox, err := images.Busybox("")
	if err != nil {
		t.Fatal(err)
	}
	reg, err := images.Serve(ctx, "127.0.0.1:0", map[string]v1.Image{images.PauseRef: pause, images.BusyboxRef: busybox})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })

	dir := t.TempDir()
	bridgeExisted := linkExists(testBridge)
	created := absentPaths(hostPaths())
	logFile, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		DataDir:       dir,
		SandboxImage:  images.PauseRef,
		RegistryHosts: map[string]string{images.RegistryHost: "http://" + reg.Addr()},
		Log:           logFile,
	}
	if _, err := WriteCNIConfig(filepath.Join(dir, "cni", "net.d"), testPodCIDR, testBridge); err != nil {
		t.Fatal(err)
	}
	l := newLayout(dir)

	began := time.Now()
	c, err := Start(ctx, opts)
	if err != nil {
		cleanupHost(t, l)
		t.Fatalf("Start: %v\ncontainerd log:\n%s", err, readLog(dir))
	}
	t.Logf("Start answered CRI after %v (%s)", time.Since(began).Round(time.Millisecond), c.Version())

	t.Cleanup(func() {
		select {
		case <-c.Done():
		default:
			removeAllPods(t, c.Runtime())
		}
		if err := c.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
		cleanupHost(t, l)
		logFile.Close()
		if t.Failed() {
			t.Logf("containerd log:\n%s", readLog(dir))
		}
		if !bridgeExisted && linkExists(testBridge) {
			if out, err := exec.Command("ip", "link", "delete", testBridge).CombinedOutput(); err != nil {
				t.Logf("cleanup: ip link delete %s: %v %s", testBridge, err, out)
			}
		}
		removeCreated(t, created)
	})
	return c, l
}

func readLog(dir string) string {
	data, _ := os.ReadFile(filepath.Join(dir, "containerd.log"))
	if len(data) > 8000 {
		data = data[len(data)-8000:]
	}
	return string(data)
}

// removeAllPods stops and removes every sandbox, so CNI releases the
// addresses and rules even when the test failed half-way.
func removeAllPods(t *testing.T, rt runtime.Runtime) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pods, err := rt.ListPodSandbox(ctx, nil)
	if err != nil {
		t.Logf("cleanup: ListPodSandbox: %v", err)
		return
	}
	for _, p := range pods {
		if err := rt.StopPodSandbox(ctx, p.Id); err != nil {
			t.Logf("cleanup: StopPodSandbox: %v", err)
		}
		if err := rt.RemovePodSandbox(ctx, p.Id); err != nil {
			t.Logf("cleanup: RemovePodSandbox: %v", err)
		}
	}
}

// pull pulls ref through CRI and checks ImageStatus then knows it.
func pull(t *testing.T, ctx context.Context, img runtime.Images, ref string) {
	t.Helper()
	began := time.Now()
	id, err := img.PullImage(ctx, &runtimeapi.ImageSpec{Image: ref}, nil, nil)
	if err != nil {
		t.Fatalf("PullImage %s: %v", ref, err)
	}
	st, err := img.ImageStatus(ctx, &runtimeapi.ImageSpec{Image: ref}, false)
	if err != nil {
		t.Fatalf("ImageStatus %s: %v", ref, err)
	}
	if st.Image == nil || st.Image.Id != id || !slices.Contains(st.Image.RepoTags, ref) {
		t.Fatalf("ImageStatus %s = %v, want id %s", ref, st.Image, id)
	}
	t.Logf("pulled %s (%s) in %v", ref, id, time.Since(began).Round(time.Millisecond))
}

// sandboxNetNS reads the sandbox's network namespace path from the
// verbose status's runtime spec.
func sandboxNetNS(t *testing.T, info map[string]string) string {
	t.Helper()
	var v struct {
		RuntimeSpec struct {
			Linux struct {
				Namespaces []struct{ Type, Path string }
			}
		}
	}
	if err := json.Unmarshal([]byte(info["info"]), &v); err != nil {
		t.Fatalf("verbose sandbox info: %v", err)
	}
	for _, ns := range v.RuntimeSpec.Linux.Namespaces {
		if ns.Type == "network" {
			return ns.Path
		}
	}
	t.Fatal("sandbox has no network namespace in its runtime spec")
	return ""
}

func isNotFound(err error) bool { return status.Code(err) == codes.NotFound }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func logContains(path, s string) bool {
	data, _ := os.ReadFile(path)
	return strings.Contains(string(data), s)
}
