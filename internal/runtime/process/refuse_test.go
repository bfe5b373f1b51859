package process

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestWithoutRootWhatCannotBeHonouredIsRefused(t *testing.T) {
	r := newTestRuntime(t)
	// Play a runtime that is not root.
	r.root, r.cgroupParents, r.noCgroups = false, nil, errors.New("process: cgroups need root")
	sb, sbConfig := testPod(t, r, "unprivileged")

	withResources := func(res *runtimeapi.LinuxContainerResources) func(*runtimeapi.ContainerConfig) {
		return func(c *runtimeapi.ContainerConfig) { c.Linux = &runtimeapi.LinuxContainerConfig{Resources: res} }
	}
	for _, tc := range []struct {
		name   string
		change func(*runtimeapi.ContainerConfig)
		refuse string // "" when the container is accepted
	}{
		{"memory limit", withResources(&runtimeapi.LinuxContainerResources{MemoryLimitInBytes: 1 << 20}), "has a memory limit, which cannot be enforced"},
		{"cpu limit", withResources(&runtimeapi.LinuxContainerResources{CpuQuota: 50000, CpuPeriod: 100000}), "has a CPU limit"},
		{"cpuset", withResources(&runtimeapi.LinuxContainerResources{CpusetCpus: "0"}), "cpuset"},
		{"volume", func(c *runtimeapi.ContainerConfig) {
			c.Mounts = []*runtimeapi.Mount{{HostPath: t.TempDir(), ContainerPath: "/data"}}
		}, "mounts volumes, which needs root"},
		{"another user", func(c *runtimeapi.ContainerConfig) {
			c.Linux = &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{RunAsUser: &runtimeapi.Int64Value{Value: int64(os.Getuid()) + 1}}}
		}, "needs root"},
		{"missing host path", func(c *runtimeapi.ContainerConfig) {
			c.Mounts = []*runtimeapi.Mount{{HostPath: filepath.Join(t.TempDir(), "gone"), ContainerPath: "/data"}}
		}, "cannot be used"},
		{"cpu shares only", withResources(&runtimeapi.LinuxContainerResources{CpuShares: 2, CpuPeriod: 100000}), ""},
		{"negative oom score", withResources(&runtimeapi.LinuxContainerResources{OomScoreAdj: -997}), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := shConfig("c", "true")
			tc.change(config)
			id, err := r.CreateContainer(t.Context(), sb, config, sbConfig)
			switch {
			case tc.refuse == "" && err != nil:
				t.Fatalf("CreateContainer: %v", err)
			case tc.refuse == "":
				c, _ := r.container(id)
				if c.rec.Resources != (resources{}) || c.rec.OOMScoreAdj != 0 {
					t.Errorf("accepted container keeps resources %+v and oom score %d, want none", c.rec.Resources, c.rec.OOMScoreAdj)
				}
			case err == nil || !strings.Contains(err.Error(), tc.refuse):
				t.Errorf("CreateContainer: err = %v, want one saying %q", err, tc.refuse)
			}
		})
	}
}

func TestLogRotatesAndIsRemovedWithTheContainer(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	opts.LogMaxSize, opts.LogMaxFiles = 2000, 2
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	sb, sbConfig := testPod(t, r, "rotate")
	id := startContainer(t, r, sb, sbConfig, shConfig("chatty", `i=0; while [ $i -lt 200 ]; do echo "line $i"; i=$((i+1)); done`))
	st := waitExited(t, r, id, 10*time.Second)
	rotated := rotatedLogs(st.LogPath)
	if len(rotated) != 1 {
		t.Errorf("rotated files = %v, want 1 (LogMaxFiles 2 counts the live file)", rotated)
	}
	if entries := readLog(t, st.LogPath); len(entries) == 0 || entries[len(entries)-1].text != "line 199" {
		t.Errorf("the live log does not end with the last line: %v", entries)
	}
	if err := r.RemoveContainer(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(st.LogPath + "*"); len(left) != 0 {
		t.Errorf("RemoveContainer left %v", left)
	}
	if list, _ := r.ListContainers(t.Context(), nil); len(list) != 0 {
		t.Errorf("containers after RemoveContainer: %v", list)
	}
}
