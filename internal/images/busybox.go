package images

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// DefaultBusyboxPath is where Debian's busybox-static package installs the
// static busybox binary.
const DefaultBusyboxPath = "/bin/busybox"

// BusyboxApplets are the applets linked into /bin of the busybox image,
// when the binary has them.
var BusyboxApplets = []string{
	"[", "awk", "basename", "cat", "chmod", "chown", "cp", "cut", "date", "dd",
	"df", "dirname", "du", "echo", "env", "expr", "false", "find", "free", "grep",
	"gunzip", "gzip", "head", "hostname", "id", "ifconfig", "ip", "kill", "killall",
	"ln", "ls", "md5sum", "mkdir", "mktemp", "more", "mv", "nc", "netstat", "nproc",
	"nslookup", "ping", "printenv", "printf", "ps", "pwd", "readlink", "rm", "rmdir",
	"sed", "seq", "sh", "sha256sum", "sleep", "sort", "stat", "tail", "tar", "tee",
	"test", "timeout", "top", "touch", "tr", "true", "uname", "uniq", "uptime",
	"vi", "watch", "wc", "wget", "which", "whoami", "xargs", "yes",
}

const (
	etcPasswd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"
	etcGroup  = "root:x:0:\nnobody:x:65534:\n"
)

// Busybox returns a busybox image built around the static busybox binary
// at path (DefaultBusyboxPath when empty): /bin/busybox, a symlink in /bin
// for each of BusyboxApplets the binary has, /tmp, /root, and /etc/passwd
// and /etc/group with root and nobody; cmd ["sh"]. The binary must be
// statically linked: the image has no libc.
func Busybox(path string) (v1.Image, error) {
	if path == "" {
		path = DefaultBusyboxPath
	}
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("images: busybox: %w", err)
	}
	applets := BusyboxApplets
	if have, ok := busyboxList(path); ok {
		applets = slices.DeleteFunc(slices.Clone(applets), func(a string) bool { return !have[a] })
	}
	if !slices.Contains(applets, "sh") {
		return nil, fmt.Errorf("images: busybox %s has no sh applet", path)
	}
	entries := []entry{
		{name: "bin", mode: 0o755, dir: true},
		{name: "bin/busybox", mode: 0o755, data: bin},
	}
	for _, a := range applets {
		entries = append(entries, entry{name: "bin/" + a, mode: 0o777, link: "busybox"})
	}
	entries = append(entries,
		entry{name: "etc", mode: 0o755, dir: true},
		entry{name: "etc/passwd", mode: 0o644, data: []byte(etcPasswd)},
		entry{name: "etc/group", mode: 0o644, data: []byte(etcGroup)},
		entry{name: "home", mode: 0o755, dir: true},
		entry{name: "root", mode: 0o700, dir: true},
		entry{name: "tmp", mode: 0o1777, dir: true},
		entry{name: "var", mode: 0o755, dir: true},
	)
	return buildImage(entries, imageConfig{
		arch: binaryArch(bin),
		cmd:  []string{"sh"},
		env:  []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
	})
}

// busyboxList runs `busybox --list` to learn the binary's applets; ok is
// false when it cannot run here (another architecture, say), and then every
// applet is linked.
func busyboxList(path string) (applets map[string]bool, ok bool) {
	cmd := exec.Command(path, "--list")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return nil, false
	}
	applets = map[string]bool{}
	for _, a := range strings.Fields(out.String()) {
		applets[a] = true
	}
	return applets, len(applets) > 0
}
