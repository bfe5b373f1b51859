package sim

import (
	"fmt"
	"net/netip"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ipPool hands out the addresses of a pod CIDR, one per sandbox.
type ipPool struct {
	prefix netip.Prefix
	first  netip.Addr // the first address handed out
	next   netip.Addr // where the search for a free one starts
	owner  map[netip.Addr]string
	byID   map[string]netip.Addr
}

func newIPPool(cidr string) (*ipPool, error) {
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("sim: Options.PodCIDR: %w", err)
	}
	prefix = prefix.Masked()
	// Skip the network address and the gateway's.
	first := prefix.Addr().Next().Next()
	if !prefix.Contains(first) {
		return nil, fmt.Errorf("sim: Options.PodCIDR %s is too small", cidr)
	}
	return &ipPool{prefix: prefix, first: first, next: first, owner: map[netip.Addr]string{}, byID: map[string]netip.Addr{}}, nil
}

// take gives id a free address.
func (p *ipPool) take(id string) (string, error) {
	a := p.next
	for {
		if _, used := p.owner[a]; !used {
			p.owner[a] = id
			p.byID[id] = a
			p.next = p.step(a)
			return a.String(), nil
		}
		a = p.step(a)
		if a == p.next {
			return "", status.Errorf(codes.ResourceExhausted, "sim: pod CIDR %s has no free address", p.prefix)
		}
	}
}

// give frees id's address.
func (p *ipPool) give(id string) {
	if a, ok := p.byID[id]; ok {
		delete(p.owner, a)
		delete(p.byID, id)
	}
}

// step is the address after a, wrapping around within the range.
func (p *ipPool) step(a netip.Addr) netip.Addr {
	n := a.Next()
	if !n.IsValid() || !p.prefix.Contains(n) || isBroadcast(p.prefix, n) {
		return p.first
	}
	return n
}

// isBroadcast reports whether a is the last address of an IPv4 prefix.
func isBroadcast(prefix netip.Prefix, a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	return !prefix.Contains(a.Next())
}
