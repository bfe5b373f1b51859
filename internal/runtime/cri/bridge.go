package cri

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// removeStaleBridge deletes the bridge when it carries an address outside
// podCIDR: it was left by an earlier cluster (or node)
// with another pod CIDR, and the bridge plugin would refuse to attach
// pods to it ("already has an IP address different from ..."). It
// reports the addresses it found on a bridge it removed.
func removeStaleBridge(bridge, podCIDR string) ([]string, error) {
	prefix, err := netip.ParsePrefix(podCIDR)
	if err != nil {
		return nil, fmt.Errorf("cri: pod CIDR: %w", err)
	}
	link, err := netlink.LinkByName(bridge)
	if err != nil {
		var notFound netlink.LinkNotFoundError
		if errors.As(err, &notFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("cri: looking up bridge %s: %w", bridge, err)
	}
	family := netlink.FAMILY_V4
	if prefix.Addr().Is6() {
		family = netlink.FAMILY_V6
	}
	addrs, err := netlink.AddrList(link, family)
	if err != nil {
		return nil, fmt.Errorf("cri: addresses of %s: %w", bridge, err)
	}
	var stale []string
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		if !ok || a.IP.IsLinkLocalUnicast() {
			continue
		}
		if !prefix.Contains(ip.Unmap()) {
			stale = append(stale, a.IPNet.String())
		}
	}
	if len(stale) == 0 {
		return nil, nil
	}
	if err := netlink.LinkDel(link); err != nil {
		return nil, fmt.Errorf("cri: removing bridge %s (addresses %v, outside the pod CIDR %s): %w", bridge, stale, podCIDR, err)
	}
	return stale, nil
}
