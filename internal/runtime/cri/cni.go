package cri

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
)

// CNI network written by WriteCNIConfig.
const (
	CNIConfigFile = "10-skiff.conflist"
	CNINetwork    = "skiff"
	CNIBridge     = "skiff0"
	// cniVersion is the spec version the plugins are asked to speak; the
	// plugins shipped by distributions (1.1 and later) support it, and so
	// does containerd 1.6's libcni.
	cniVersion = "0.4.0"
)

// cniConfList is a CNI network configuration list.
type cniConfList struct {
	CNIVersion string `json:"cniVersion"`
	Name       string `json:"name"`
	Plugins    []any  `json:"plugins"`
}

type bridgePlugin struct {
	Type        string    `json:"type"`
	Bridge      string    `json:"bridge"`
	IsGateway   bool      `json:"isGateway"`
	IPMasq      bool      `json:"ipMasq"`
	HairpinMode bool      `json:"hairpinMode"`
	IPAM        hostLocal `json:"ipam"`
}

type hostLocal struct {
	Type   string      `json:"type"`
	Ranges [][]ipRange `json:"ranges"`
	Routes []route     `json:"routes"`
}

type ipRange struct {
	Subnet string `json:"subnet"`
}

type route struct {
	Dst string `json:"dst"`
}

type portmapPlugin struct {
	Type         string          `json:"type"`
	Capabilities map[string]bool `json:"capabilities"`
}

// cniConfig renders the network for podCIDR: pods are attached to the
// bridge skiff0, which is their gateway; host-local hands out addresses from
// podCIDR; traffic leaving the node is masqueraded; portmap implements
// hostPort. The loopback interface is not listed: containerd's CRI plugin
// brings up lo in every pod itself, with the loopback plugin from its
// bin_dir.
func cniConfig(podCIDR, bridge string) ([]byte, error) {
	prefix, err := netip.ParsePrefix(podCIDR)
	if err != nil {
		return nil, fmt.Errorf("cri: pod CIDR: %w", err)
	}
	if prefix != prefix.Masked() {
		return nil, fmt.Errorf("cri: pod CIDR %s has host bits set", podCIDR)
	}
	defaultRoute := "0.0.0.0/0"
	if prefix.Addr().Is6() {
		defaultRoute = "::/0"
	}
	conf := cniConfList{
		CNIVersion: cniVersion,
		Name:       CNINetwork,
		Plugins: []any{
			bridgePlugin{
				Type:        "bridge",
				Bridge:      bridge,
				IsGateway:   true,
				IPMasq:      true,
				HairpinMode: true,
				IPAM: hostLocal{
					Type:   "host-local",
					Ranges: [][]ipRange{{{Subnet: prefix.String()}}},
					Routes: []route{{Dst: defaultRoute}},
				},
			},
			portmapPlugin{
				Type:         "portmap",
				Capabilities: map[string]bool{"portMappings": true},
			},
		},
	}
	data, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("cri: %w", err)
	}
	return append(data, '\n'), nil
}

// WriteCNIConfig writes dir/10-skiff.conflist, the pod network for the
// node's pod CIDR on the given bridge (CNIBridge if empty; tests that run
// beside a node use another). containerd watches the directory, so it may
// be written before or after Start; pods cannot start until it exists. As
// root, a bridge left with an address outside podCIDR (by an earlier
// cluster) is removed first, and its old addresses are returned.
func WriteCNIConfig(dir, podCIDR, bridge string) (removed []string, err error) {
	if bridge == "" {
		bridge = CNIBridge
	}
	data, err := cniConfig(podCIDR, bridge)
	if err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		if removed, err = removeStaleBridge(bridge, podCIDR); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return removed, fmt.Errorf("cri: %w", err)
	}
	return removed, writeFile(filepath.Join(dir, CNIConfigFile), data)
}
