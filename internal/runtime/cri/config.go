package cri

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Options configure the containerd that Start runs.
type Options struct {
	// DataDir holds containerd's state in DataDir/containerd: its root
	// (images, snapshots), its state, its config and its socket.
	DataDir string
	// Binary is the containerd executable; "containerd" (on PATH) if empty.
	Binary string
	// SandboxImage is the pause image every pod sandbox runs.
	SandboxImage string
	// RegistryHosts maps a registry host (as written in image references,
	// "registry.skiff.local" or "host:port") to the URL to pull from
	// instead; an http:// URL makes it a plain-HTTP registry.
	RegistryHosts map[string]string
	// CNIBinDir holds the CNI plugins; /usr/lib/cni if it has them, else
	// /opt/cni/bin.
	CNIBinDir string
	// CNIConfDir holds the network configuration (see WriteCNIConfig);
	// DataDir/cni/net.d if empty.
	CNIConfDir string
	// Log receives containerd's output; discarded if nil.
	Log io.Writer
}

// layout is where a containerd's files go.
type layout struct {
	dir      string // DataDir/containerd
	root     string // persistent data: content, snapshots, metadata
	state    string // runtime state: task bundles, sandbox files, netns
	socket   string // the gRPC (and CRI) socket
	config   string // config.toml
	hosts    string // registry hosts directory (config_path)
	runcRoot string // runc's own state
	opt      string // the opt plugin's install directory
}

func newLayout(dataDir string) layout {
	dir := filepath.Join(dataDir, "containerd")
	return layout{
		dir:      dir,
		root:     filepath.Join(dir, "root"),
		state:    filepath.Join(dir, "state"),
		socket:   filepath.Join(dir, "containerd.sock"),
		config:   filepath.Join(dir, "config.toml"),
		hosts:    filepath.Join(dir, "hosts.d"),
		runcRoot: filepath.Join(dir, "state", "runc"),
		opt:      filepath.Join(dir, "opt"),
	}
}

// defaultCNIBinDirs are tried in order when Options.CNIBinDir is empty.
var defaultCNIBinDirs = []string{"/usr/lib/cni", "/opt/cni/bin"}

// withDefaults fills in the options' defaults.
func (o Options) withDefaults() (Options, error) {
	if o.DataDir == "" {
		return o, errors.New("cri: Options.DataDir is required")
	}
	dataDir, err := filepath.Abs(o.DataDir)
	if err != nil {
		return o, fmt.Errorf("cri: %w", err)
	}
	o.DataDir = dataDir
	if o.Binary == "" {
		o.Binary = "containerd"
	}
	if o.CNIBinDir == "" {
		o.CNIBinDir = defaultCNIBinDirs[len(defaultCNIBinDirs)-1]
		for _, dir := range defaultCNIBinDirs {
			if _, err := os.Stat(filepath.Join(dir, "bridge")); err == nil {
				o.CNIBinDir = dir
				break
			}
		}
	}
	if o.CNIConfDir == "" {
		o.CNIConfDir = filepath.Join(o.DataDir, "cni", "net.d")
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o, nil
}

// disabledPlugins are snapshotters that cannot work here or are not used;
// disabling them keeps containerd from probing for them at every start.
var disabledPlugins = []string{
	"io.containerd.snapshotter.v1.aufs",
	"io.containerd.snapshotter.v1.btrfs",
	"io.containerd.snapshotter.v1.devmapper",
	"io.containerd.snapshotter.v1.zfs",
}

// configTOML renders containerd's config.toml (format version 2, which
// containerd 1.6 and 1.7 read).
func configTOML(o Options, l layout) []byte {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# Written by skiff; rewritten at every start.")
	p("version = 2")
	p("root = %s", tomlString(l.root))
	p("state = %s", tomlString(l.state))
	quoted := make([]string, len(disabledPlugins))
	for i, name := range disabledPlugins {
		quoted[i] = tomlString(name)
	}
	p("disabled_plugins = [%s]", strings.Join(quoted, ", "))
	p("")
	p("[grpc]")
	p("  address = %s", tomlString(l.socket))
	p("")
	p(`[plugins."io.containerd.internal.v1.opt"]`)
	p("  path = %s", tomlString(l.opt))
	p("")
	p(`[plugins."io.containerd.grpc.v1.cri"]`)
	p("  sandbox_image = %s", tomlString(o.SandboxImage))
	p("  restrict_oom_score_adj = true")
	p("  enable_cdi = false")
	p("  netns_mounts_under_state_dir = true")
	p("  stream_server_address = \"127.0.0.1\"")
	p("  stream_server_port = \"0\"")
	p("")
	p(`[plugins."io.containerd.grpc.v1.cri".containerd]`)
	p("  snapshotter = \"overlayfs\"")
	p("  default_runtime_name = \"runc\"")
	p("")
	p(`[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]`)
	p("  runtime_type = \"io.containerd.runc.v2\"")
	p("")
	p(`[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]`)
	p("  SystemdCgroup = false")
	p("  Root = %s", tomlString(l.runcRoot))
	p("")
	p(`[plugins."io.containerd.grpc.v1.cri".cni]`)
	p("  bin_dir = %s", tomlString(o.CNIBinDir))
	p("  conf_dir = %s", tomlString(o.CNIConfDir))
	p("  max_conf_num = 1")
	p("")
	p(`[plugins."io.containerd.grpc.v1.cri".registry]`)
	p("  config_path = %s", tomlString(l.hosts))
	return []byte(b.String())
}

// hostsTOML renders one registry host's hosts.toml: pull from url instead
// of the registry named in the image reference. url is both the mirror to
// try and the server to fall back to, so nothing goes to the host itself
// (containerd 1.6 rejects a file without a host table).
func hostsTOML(url string) []byte {
	return []byte(fmt.Sprintf("# Written by skiff; rewritten at every start.\nserver = %s\n\n[host.%s]\n  capabilities = [\"pull\", \"resolve\"]\n",
		tomlString(url), tomlString(url)))
}

// writeConfig creates containerd's directories and writes its config and
// the registry hosts directory, removing hosts no longer configured.
func writeConfig(o Options, l layout) error {
	for _, dir := range []string{l.root, l.state, l.hosts, o.CNIConfDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("cri: %w", err)
		}
	}
	entries, err := os.ReadDir(l.hosts)
	if err != nil {
		return fmt.Errorf("cri: %w", err)
	}
	for _, e := range entries {
		if _, ok := o.RegistryHosts[e.Name()]; !ok {
			if err := os.RemoveAll(filepath.Join(l.hosts, e.Name())); err != nil {
				return fmt.Errorf("cri: %w", err)
			}
		}
	}
	hosts := make([]string, 0, len(o.RegistryHosts))
	for host := range o.RegistryHosts {
		hosts = append(hosts, host)
	}
	slices.Sort(hosts)
	for _, host := range hosts {
		url := o.RegistryHosts[host]
		if host == "" || strings.ContainsAny(host, `/\`) || host == "." || host == ".." {
			return fmt.Errorf("cri: invalid registry host %q", host)
		}
		if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
			return fmt.Errorf("cri: registry %q: URL %q must start with http:// or https://", host, url)
		}
		dir := filepath.Join(l.hosts, host)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("cri: %w", err)
		}
		if err := writeFile(filepath.Join(dir, "hosts.toml"), hostsTOML(url)); err != nil {
			return err
		}
	}
	return writeFile(l.config, configTOML(o, l))
}

// writeFile replaces path's content atomically.
func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("cri: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("cri: %w", err)
	}
	return nil
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
