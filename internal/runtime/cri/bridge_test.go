package cri

import (
	"net"
	"os"
	"testing"

	"github.com/vishvananda/netlink"
)

// TestRemoveStaleBridge: a bridge whose address lies in the pod CIDR stays;
// one left with another cluster's address is removed.
func TestRemoveStaleBridge(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("creating a bridge needs root (CI runs as root)")
	}
	const name = "skifftest1"
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
	if err := netlink.LinkAdd(br); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if l, err := netlink.LinkByName(name); err == nil {
			_ = netlink.LinkDel(l)
		}
	})
	ip, ipnet, _ := net.ParseCIDR("10.99.0.1/24")
	ipnet.IP = ip
	if err := netlink.AddrAdd(br, &netlink.Addr{IPNet: ipnet}); err != nil {
		t.Fatal(err)
	}
	if removed, err := removeStaleBridge(name, "10.99.0.0/24"); err != nil || len(removed) != 0 {
		t.Fatalf("bridge in its own CIDR: removed %v, err %v; want it kept", removed, err)
	}
	if _, err := netlink.LinkByName(name); err != nil {
		t.Fatalf("the bridge is gone: %v", err)
	}
	removed, err := removeStaleBridge(name, "10.88.0.0/24")
	if err != nil || len(removed) != 1 || removed[0] != "10.99.0.1/24" {
		t.Fatalf("stale bridge: removed %v, err %v; want [10.99.0.1/24]", removed, err)
	}
	if _, err := netlink.LinkByName(name); err == nil {
		t.Fatal("the stale bridge is still there")
	}
	if removed, err := removeStaleBridge(name, "10.88.0.0/24"); err != nil || removed != nil {
		t.Fatalf("no bridge: removed %v, err %v", removed, err)
	}
}
