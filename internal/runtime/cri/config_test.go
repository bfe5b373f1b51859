package cri

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func testOptions(t *testing.T) (Options, layout) {
	t.Helper()
	o, err := Options{
		DataDir:       t.TempDir(),
		SandboxImage:  "registry.skiff.local/pause:3.10",
		RegistryHosts: map[string]string{"registry.skiff.local": "http://127.0.0.1:5000"},
		CNIBinDir:     "/usr/lib/cni",
	}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return o, newLayout(o.DataDir)
}

func TestDefaults(t *testing.T) {
	if _, err := (Options{}).withDefaults(); err == nil {
		t.Error("withDefaults without DataDir: no error")
	}
	o, err := Options{DataDir: "/var/lib/skiff"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if o.Binary != "containerd" {
		t.Errorf("Binary = %q, want containerd", o.Binary)
	}
	if o.CNIConfDir != "/var/lib/skiff/cni/net.d" {
		t.Errorf("CNIConfDir = %q", o.CNIConfDir)
	}
	if o.CNIBinDir != "/usr/lib/cni" && o.CNIBinDir != "/opt/cni/bin" {
		t.Errorf("CNIBinDir = %q", o.CNIBinDir)
	}
	if o.Log == nil {
		t.Error("Log is nil")
	}
	l := newLayout(o.DataDir)
	if l.socket != "/var/lib/skiff/containerd/containerd.sock" || l.root != "/var/lib/skiff/containerd/root" || l.state != "/var/lib/skiff/containerd/state" {
		t.Errorf("layout = %+v", l)
	}
}

// tomlValue finds `key = value` in the section [section] of a TOML text.
func tomlValue(t *testing.T, text, section, key string) string {
	t.Helper()
	current := ""
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			current = strings.Trim(line, "[]")
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok && current == section && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	t.Errorf("no %s in [%s]", key, section)
	return ""
}

func TestConfigTOML(t *testing.T) {
	o, l := testOptions(t)
	if err := writeConfig(o, l); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(l.config)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	const cri = `plugins."io.containerd.grpc.v1.cri"`
	want := []struct{ section, key, value string }{
		{"", "version", "2"},
		{"", "root", tomlString(l.root)},
		{"", "state", tomlString(l.state)},
		{"grpc", "address", tomlString(l.socket)},
		{cri, "sandbox_image", `"registry.skiff.local/pause:3.10"`},
		{cri, "restrict_oom_score_adj", "true"},
		{cri, "enable_cdi", "false"},
		{cri + ".containerd", "default_runtime_name", `"runc"`},
		{cri + ".containerd.runtimes.runc", "runtime_type", `"io.containerd.runc.v2"`},
		{cri + ".containerd.runtimes.runc.options", "SystemdCgroup", "false"},
		{cri + ".cni", "bin_dir", `"/usr/lib/cni"`},
		{cri + ".cni", "conf_dir", tomlString(o.CNIConfDir)},
		{cri + ".registry", "config_path", tomlString(l.hosts)},
	}
	for _, w := range want {
		if got := tomlValue(t, text, w.section, w.key); got != w.value {
			t.Errorf("[%s] %s = %s, want %s", w.section, w.key, got, w.value)
		}
	}
	hosts, err := os.ReadFile(filepath.Join(l.hosts, "registry.skiff.local", "hosts.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := tomlValue(t, string(hosts), "", "server"); got != `"http://127.0.0.1:5000"` {
		t.Errorf("hosts.toml server = %s", got)
	}
	if _, err := os.Stat(o.CNIConfDir); err != nil {
		t.Errorf("CNI conf dir not created: %v", err)
	}
}

// TestConfigDump has containerd itself parse the config, when it is
// installed, so a key in the wrong place or spelled wrong shows up.
func TestConfigDump(t *testing.T) {
	bin, err := exec.LookPath("containerd")
	if err != nil {
		t.Skip("containerd is not installed:", err)
	}
	o, l := testOptions(t)
	if err := writeConfig(o, l); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--config", l.config, "config", "dump").CombinedOutput()
	if err != nil {
		t.Fatalf("containerd config dump: %v\n%s", err, out)
	}
	dump := string(out)
	for _, re := range []string{
		`(?m)^root = ` + regexp.QuoteMeta(tomlString(l.root)) + `$`,
		`(?m)^state = ` + regexp.QuoteMeta(tomlString(l.state)) + `$`,
		`(?m)^\s+address = ` + regexp.QuoteMeta(tomlString(l.socket)) + `$`,
		`(?m)^\s+sandbox_image = "registry.skiff.local/pause:3.10"$`,
		`(?m)^\s+restrict_oom_score_adj = true$`,
		`(?m)^\s+netns_mounts_under_state_dir = true$`,
		`(?m)^\s+SystemdCgroup = false$`,
		`(?m)^\s+Root = ` + regexp.QuoteMeta(tomlString(l.runcRoot)) + `$`,
		`(?m)^\s+bin_dir = "/usr/lib/cni"$`,
		`(?m)^\s+conf_dir = ` + regexp.QuoteMeta(tomlString(o.CNIConfDir)) + `$`,
		`(?m)^\s+config_path = ` + regexp.QuoteMeta(tomlString(l.hosts)) + `$`,
		`(?m)^\s+path = ` + regexp.QuoteMeta(tomlString(l.opt)) + `$`,
	} {
		if !regexp.MustCompile(re).MatchString(dump) {
			t.Errorf("containerd's view of the config lacks %s", re)
		}
	}
}

func TestRegistryHosts(t *testing.T) {
	o, l := testOptions(t)
	o.RegistryHosts = map[string]string{"a.example:5000": "https://mirror.example", "b.example": "http://127.0.0.1:1"}
	if err := writeConfig(o, l); err != nil {
		t.Fatal(err)
	}
	o.RegistryHosts = map[string]string{"b.example": "http://127.0.0.1:2"}
	if err := writeConfig(o, l); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(l.hosts)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "b.example" {
		t.Errorf("hosts dir holds %v, want only b.example", entries)
	}
	data, err := os.ReadFile(filepath.Join(l.hosts, "b.example", "hosts.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `server = "http://127.0.0.1:2"`) {
		t.Errorf("hosts.toml not rewritten:\n%s", data)
	}

	for _, bad := range []map[string]string{
		{"../x": "http://127.0.0.1:1"},
		{"": "http://127.0.0.1:1"},
		{"a.example": "127.0.0.1:1"},
	} {
		o.RegistryHosts = bad
		if err := writeConfig(o, l); err == nil {
			t.Errorf("writeConfig accepted registry hosts %v", bad)
		}
	}
}

func TestTOMLString(t *testing.T) {
	for in, want := range map[string]string{
		"/var/lib/skiff": `"/var/lib/skiff"`,
		`a"b\c`:          `"a\"b\\c"`,
		"tab\there":      `"tab\u0009here"`,
		"é":              `"é"`,
	} {
		if got := tomlString(in); got != want {
			t.Errorf("tomlString(%q) = %s, want %s", in, got, want)
		}
	}
}
