package images

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

// containerd is a throwaway containerd daemon for one test.
type containerd struct {
	dir, sock string
}

// startContainerd runs /usr/bin/containerd with root, state and socket in a
// temporary directory, and stops it and cleans up when the test ends. It
// skips the test unless running as root with containerd and ctr installed.
func startContainerd(t *testing.T) *containerd {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run containerd")
	}
	for _, p := range []string{"/usr/bin/containerd", "/usr/bin/ctr"} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("needs %s (Debian package containerd): %v", p, err)
		}
	}
	// Not t.TempDir: its long name could pass the 108-byte socket path limit.
	dir, err := os.MkdirTemp("", "skiff-images-ctrd-")
	if err != nil {
		t.Fatal(err)
	}
	c := &containerd{dir: dir, sock: filepath.Join(dir, "c.sock")}
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = %q

[ttrpc]
  address = %q

[plugins."io.containerd.internal.v1.opt"]
  path = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), c.sock, c.sock+".ttrpc", filepath.Join(dir, "opt"))
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	cmd := exec.Command("/usr/bin/containerd", "--config", cfg)
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		killShims(dir)
		unmountUnder(dir)
		removeCgroups(testNamespace)
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("clean up %s: %v", dir, err)
		}
		if t.Failed() {
			t.Logf("containerd log:\n%s", log.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := c.ctr(t, "version"); err == nil {
			return c
		}
		select {
		case <-exited:
			t.Fatalf("containerd exited:\n%s", log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("containerd did not answer on %s:\n%s", c.sock, log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// testNamespace is the containerd namespace the tests use; a cgroup of that
// name, which `ctr run` makes, is removed when the test ends.
const testNamespace = "skiff-images-test"

// ctr runs ctr against the daemon in testNamespace.
func (c *containerd) ctr(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	argv := append([]string{"--address", c.sock, "--namespace", testNamespace}, args...)
	out, err := exec.CommandContext(ctx, "/usr/bin/ctr", argv...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ctr %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// killShims ends leftover shims started by this daemon: those whose command
// line names its directory.
func killShims(dir string) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && bytes.Contains(b, []byte(dir)) && strings.Contains(string(b), "containerd-shim") {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// removeCgroups removes the (empty) cgroup directories named name, in every
// hierarchy, that `ctr run` leaves for a namespace.
func removeCgroups(name string) {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + name)
	if _, err := os.Stat("/sys/fs/cgroup/" + name); err == nil {
		dirs = append(dirs, "/sys/fs/cgroup/"+name)
	}
	for _, d := range dirs {
		_ = os.Remove(d)
	}
}

// unmountUnder lazily unmounts every mount below dir, deepest first.
func unmountUnder(dir string) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	lines := strings.Split(string(b), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		f := strings.Fields(lines[i])
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			_ = unix.Unmount(f[4], unix.MNT_DETACH)
		}
	}
}

// TestContainerdImportsTarball imports a WriteTarball file with `ctr images
// import`, as a user without a registry would (in namespace k8s.io there),
// and runs the busybox image.
func TestContainerdImportsTarball(t *testing.T) {
	c := startContainerd(t)
	pause, err := Pause()
	if err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(c.dir, "pause.tar")
	if err := WriteTarball(tarPath, PauseRef, pause); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ctr(t, "images", "import", tarPath); err != nil {
		t.Fatal(err)
	}
	out, err := c.ctr(t, "images", "ls", "-q")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, PauseRef) {
		t.Errorf("ctr images ls does not list %s:\n%s", PauseRef, out)
	}
	// A docker archive's manifest is rebuilt by containerd, so its digest is
	// not ours; the platform comes from our config.
	if out, _ := c.ctr(t, "images", "ls"); !strings.Contains(out, "linux/"+runtime.GOARCH) {
		t.Errorf("ctr images ls does not show platform linux/%s:\n%s", runtime.GOARCH, out)
	}

	if _, err := os.Stat(DefaultBusyboxPath); err != nil {
		t.Logf("no %s: not running the busybox image", DefaultBusyboxPath)
		return
	}
	if _, err := exec.LookPath("runc"); err != nil {
		t.Logf("no runc: not running the busybox image")
		return
	}
	// The pause image runs (as user 65535) and exits 0 on SIGTERM.
	pauseRun := exec.Command("/usr/bin/ctr", "--address", c.sock, "--namespace", testNamespace,
		"run", "--rm", PauseRef, "skiff-images-pause")
	var pauseOut bytes.Buffer
	pauseRun.Stdout, pauseRun.Stderr = &pauseOut, &pauseOut
	if err := pauseRun.Start(); err != nil {
		t.Fatal(err)
	}
	pauseDone := make(chan error, 1)
	go func() { pauseDone <- pauseRun.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, _ := c.ctr(t, "tasks", "ls")
		if strings.Contains(out, "RUNNING") {
			break
		}
		if time.Now().After(deadline) {
			_ = pauseRun.Process.Kill()
			t.Fatalf("pause task not running:\n%s\n%s", out, pauseOut.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Running means exec'd; give the Go runtime time to reach signal.Notify.
	time.Sleep(500 * time.Millisecond)
	if _, err := c.ctr(t, "tasks", "kill", "--signal", "SIGTERM", "skiff-images-pause"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-pauseDone:
		if err != nil {
			t.Errorf("pause container after SIGTERM: %v\n%s", err, pauseOut.String())
		}
	case <-time.After(10 * time.Second):
		_ = pauseRun.Process.Kill()
		t.Fatal("pause container did not exit on SIGTERM")
	}

	bb, err := Busybox("")
	if err != nil {
		t.Fatal(err)
	}
	bbTar := filepath.Join(c.dir, "busybox.tar")
	if err := WriteTarball(bbTar, BusyboxRef, bb); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ctr(t, "images", "import", bbTar); err != nil {
		t.Fatal(err)
	}
	out, err = c.ctr(t, "run", "--rm", BusyboxRef, "skiff-images-test", "sh", "-c", "echo hi from $(whoami) && ls -d /tmp")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "hi from root") || !strings.Contains(out, "/tmp") {
		t.Errorf("busybox container printed %q", out)
	}
}

// TestContainerdPullsFromServe has containerd pull from the registry Serve
// runs, with basic auth as an imagePullSecret would give it.
func TestContainerdPullsFromServe(t *testing.T) {
	c := startContainerd(t)
	pause, err := Pause()
	if err != nil {
		t.Fatal(err)
	}
	r, err := Serve(context.Background(), "127.0.0.1:0", map[string]v1.Image{PauseRef: pause},
		WithBasicAuth("puller", "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ref, _ := r.Ref(PauseRef)
	if _, err := c.ctr(t, "images", "pull", "--plain-http", ref); err == nil {
		t.Error("pull without credentials succeeded")
	}
	if _, err := c.ctr(t, "images", "pull", "--plain-http", "--user", "puller:s3cret", ref); err != nil {
		t.Fatal(err)
	}
	out, err := c.ctr(t, "images", "ls", "-q")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, ref) {
		t.Errorf("ctr images ls does not list %s:\n%s", ref, out)
	}
}
