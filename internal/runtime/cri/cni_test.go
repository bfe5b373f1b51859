package cri

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestWriteCNIConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "net.d")
	if _, err := WriteCNIConfig(dir, "10.88.0.0/24", testBridge); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "10-skiff.conflist"))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("conflist is not JSON: %v\n%s", err, data)
	}
	want := map[string]any{
		"cniVersion": "0.4.0",
		"name":       "skiff",
		"plugins": []any{
			map[string]any{
				"type":        "bridge",
				"bridge":      testBridge,
				"isGateway":   true,
				"ipMasq":      true,
				"hairpinMode": true,
				"ipam": map[string]any{
					"type":   "host-local",
					"ranges": []any{[]any{map[string]any{"subnet": "10.88.0.0/24"}}},
					"routes": []any{map[string]any{"dst": "0.0.0.0/0"}},
				},
			},
			map[string]any{
				"type":         "portmap",
				"capabilities": map[string]any{"portMappings": true},
			},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("conflist =\n%s\nwant %v", data, want)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("conf dir holds %d files, want only the conflist", len(entries))
	}

	// Rewriting with another CIDR replaces the range.
	if _, err := WriteCNIConfig(dir, "10.42.3.0/24", testBridge); err != nil {
		t.Fatal(err)
	}
	data, err = os.ReadFile(filepath.Join(dir, "10-skiff.conflist"))
	if err != nil {
		t.Fatal(err)
	}
	var conf cniConfList
	if err := json.Unmarshal(data, &conf); err != nil {
		t.Fatal(err)
	}
	bridge := conf.Plugins[0].(map[string]any)
	ranges := bridge["ipam"].(map[string]any)["ranges"].([]any)
	if subnet := ranges[0].([]any)[0].(map[string]any)["subnet"]; subnet != "10.42.3.0/24" {
		t.Errorf("subnet after rewrite = %v", subnet)
	}
}

func TestCNIConfigIPv6(t *testing.T) {
	data, err := cniConfig("fd00:42::/64", testBridge)
	if err != nil {
		t.Fatal(err)
	}
	var conf struct {
		Plugins []struct {
			IPAM struct {
				Routes []route `json:"routes"`
			} `json:"ipam"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(data, &conf); err != nil {
		t.Fatal(err)
	}
	if got := conf.Plugins[0].IPAM.Routes; len(got) != 1 || got[0].Dst != "::/0" {
		t.Errorf("IPv6 routes = %v, want ::/0", got)
	}
}

func TestWriteCNIConfigRejectsBadCIDR(t *testing.T) {
	dir := t.TempDir()
	for _, cidr := range []string{"", "10.88.0.0", "10.88.0.1/24", "nonsense/24"} {
		if _, err := WriteCNIConfig(dir, cidr, testBridge); err == nil {
			t.Errorf("WriteCNIConfig(%q): no error", cidr)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a rejected CIDR left %d files", len(entries))
	}
}

// TestWriteCNIConfigDefaultBridge: with no bridge named, pods attach to
// CNIBridge.
func TestWriteCNIConfigDefaultBridge(t *testing.T) {
	data, err := cniConfig("10.88.0.0/24", CNIBridge)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"bridge": "skiff0"`) {
		t.Errorf("conflist does not name skiff0:\n%s", data)
	}
}
