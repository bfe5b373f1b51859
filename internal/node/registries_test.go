package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadRegistries(t *testing.T) {
	cases := []struct {
		name, file string
		want       map[string]string
		err        string
	}{
		{"mirrors", "mirrors:\n  \"127.0.0.1:5000\":\n    endpoint: [\"http://127.0.0.1:5000/\"]\n  docker.io:\n    endpoint: [\"https://mirror.example.com\", \"https://other\"]\n",
			map[string]string{"127.0.0.1:5000": "http://127.0.0.1:5000", "docker.io": "https://mirror.example.com"}, ""},
		{"empty", "", map[string]string{}, ""},
		{"no endpoint", "mirrors:\n  a.io: {}\n", nil, "mirror a.io has no endpoint"},
		{"bad scheme", "mirrors:\n  a.io:\n    endpoint: [\"ftp://x\"]\n", nil, `endpoint "ftp://x" is not an http:// or https:// URL`},
		{"bad host", "mirrors:\n  a.io/x:\n    endpoint: [\"http://x\"]\n", nil, `"a.io/x" is not a registry host`},
		{"configs", "configs:\n  a.io:\n    auth: {username: u}\n", nil, "configs (auth, tls) are not supported yet"},
		{"unknown field", "mirror:\n  a.io: {}\n", nil, `unknown field "mirror"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "registries.yaml")
			if err := os.WriteFile(path, []byte(c.file), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := ReadRegistries(path)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for k, v := range c.want {
				if got[k] != v {
					t.Errorf("%s → %q, want %q", k, got[k], v)
				}
			}
		})
	}
}
