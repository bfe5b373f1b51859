package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHasKubeconfigFlag(t *testing.T) {
	tests := []struct {
		args []string
		want bool
	}{
		{nil, false},
		{[]string{"get", "ns"}, false},
		{[]string{"--kubeconfig", "x", "get", "ns"}, true},
		{[]string{"get", "ns", "--kubeconfig=x"}, true},
		{[]string{"exec", "p", "--", "cmd", "--kubeconfig=x"}, false},
		{[]string{"get", "--kubeconfigs"}, false},
	}
	for _, tt := range tests {
		if got := hasKubeconfigFlag(tt.args); got != tt.want {
			t.Errorf("hasKubeconfigFlag(%q) = %v, want %v", tt.args, got, tt.want)
		}
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in   string
		want slog.Level
		ok   bool
	}{
		{"info", slog.LevelInfo, true},
		{"DEBUG", slog.LevelDebug, true},
		{"warn", slog.LevelWarn, true},
		{"0", slog.LevelInfo, true},
		{"4", slog.LevelDebug, true},
		{"loud", 0, false},
	}
	for _, tt := range tests {
		got, err := parseLevel(tt.in)
		if (err == nil) != tt.ok || (tt.ok && got != tt.want) {
			t.Errorf("parseLevel(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestDefaultDataDirFromEnv(t *testing.T) {
	t.Setenv("SKIFF_DATA_DIR", "/srv/skiff")
	if got := defaultDataDir(); got != "/srv/skiff" {
		t.Errorf("defaultDataDir() = %q", got)
	}
}

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(t.Context())
	return out.String(), err
}

func TestKubeconfigCommand(t *testing.T) {
	dir := t.TempDir()
	_, err := run(t, "kubeconfig", "--data-dir", dir)
	if err == nil || !strings.Contains(err.Error(), "skiff server --data-dir "+dir) {
		t.Fatalf("missing kubeconfig: err = %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, adminKubeconfigName), []byte("apiVersion: v1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "kubeconfig", "--data-dir", dir)
	if err != nil || out != "apiVersion: v1\n" {
		t.Fatalf("out %q, err %v", out, err)
	}
}

func TestVersionCommand(t *testing.T) {
	out, err := run(t, "version")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Kubernetes v1.34.4") {
		t.Errorf("version output %q", out)
	}
}

func TestPrintUp(t *testing.T) {
	t.Setenv("SKIFF_DATA_DIR", "/d")
	var b bytes.Buffer
	printUp(&b, "https://127.0.0.1:6443", "/d/admin.kubeconfig", "/d")
	want := `skiff is up: API at https://127.0.0.1:6443
kubeconfig: /d/admin.kubeconfig
try: kubectl --kubeconfig /d/admin.kubeconfig get namespaces
 or: skiff kubectl get ns
`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	printUp(&b, "https://127.0.0.1:6443", "/e/admin.kubeconfig", "/e")
	if !strings.Contains(b.String(), "SKIFF_DATA_DIR=/e skiff kubectl get ns") {
		t.Errorf("non-default data dir not passed on:\n%s", b.String())
	}
}
