package nodeipam

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
)

// maxSubnetBits bounds how many subnets one cluster range is cut into
// (2^16), as upstream does, so the bookkeeping stays small.
const maxSubnetBits = 16

// ErrFull is what Next answers when every subnet is taken.
var ErrFull = errors.New("nodeipam: no pod CIDR left in the cluster CIDR")

// Allocator cuts equal subnets out of one cluster range and records which
// nodes hold each. It is safe for concurrent use: one mutex guards it all.
//
// Subnets are numbered from the start of the range; Next hands out the
// lowest free one. A subnet may have several holders (two nodes that were
// given the same CIDR by hand); it is free again only when all are gone.
type Allocator struct {
	cluster netip.Prefix
	size    int // prefix length of each subnet
	count   int

	mu      sync.Mutex
	holders map[int][]string // subnet index -> nodes holding it
	held    map[string][]int // node -> subnet indexes, ascending
}

// NewAllocator cuts cluster (a CIDR of either family) into subnets of
// prefix length size. size must be longer than the cluster's prefix, at
// most the address length, and cut at most 2^16 subnets.
func NewAllocator(cluster string, size int) (*Allocator, error) {
	p, err := netip.ParsePrefix(cluster)
	if err != nil {
		return nil, fmt.Errorf("nodeipam: cluster CIDR %q: %w", cluster, err)
	}
	p = p.Masked()
	if size <= p.Bits() || size > p.Addr().BitLen() {
		return nil, fmt.Errorf("nodeipam: node CIDR mask size %d must be longer than the cluster CIDR's /%d and at most /%d",
			size, p.Bits(), p.Addr().BitLen())
	}
	if size-p.Bits() > maxSubnetBits {
		return nil, fmt.Errorf("nodeipam: node CIDR mask size /%d cuts %s into more than 2^%d subnets",
			size, p, maxSubnetBits)
	}
	return &Allocator{cluster: p, size: size, count: 1 << (size - p.Bits()),
		holders: map[int][]string{}, held: map[string][]int{}}, nil
}

// Cluster is the range subnets are cut from.
func (a *Allocator) Cluster() netip.Prefix { return a.cluster }

// Subnet is subnet number i of the range.
func (a *Allocator) Subnet(i int) netip.Prefix {
	b := a.cluster.Addr().AsSlice()
	setBits(b, a.cluster.Bits(), a.size, i)
	addr, _ := netip.AddrFromSlice(b)
	return netip.PrefixFrom(addr, a.size)
}

// Next gives node a subnet: the one it holds already if it holds any
// (a retry, or an earlier answer the caller has not seen written yet),
// otherwise the lowest free one, which it then holds. ErrFull when none
// is free.
func (a *Allocator) Next(node string) (netip.Prefix, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if idx := a.held[node]; len(idx) > 0 {
		return a.Subnet(idx[0]), nil
	}
	for i := range a.count {
		if len(a.holders[i]) == 0 {
			a.take(node, i)
			return a.Subnet(i), nil
		}
	}
	return netip.Prefix{}, ErrFull
}

// Occupy records that node has cidrs: it holds exactly the subnets they
// cover from now on, and lets go of any others it held. CIDRs of the other
// address family are ignored (a dual-stack node); those of this family
// that are not inside the range are returned and hold nothing. freed
// counts the subnets that became free.
func (a *Allocator) Occupy(node string, cidrs []netip.Prefix) (outside []netip.Prefix, freed int) {
	var want []int
	for _, c := range cidrs {
		if c.Addr().Is4() != a.cluster.Addr().Is4() {
			continue
		}
		first, n, ok := a.cover(c)
		if !ok {
			outside = append(outside, c)
			continue
		}
		for i := first; i < first+n; i++ {
			want = append(want, i)
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, i := range slices.Clone(a.held[node]) {
		if !slices.Contains(want, i) {
			if a.drop(node, i) {
				freed++
			}
		}
	}
	for _, i := range want {
		a.take(node, i)
	}
	return outside, freed
}

// Release lets go of every subnet node holds and counts those that became
// free.
func (a *Allocator) Release(node string) (freed int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, i := range slices.Clone(a.held[node]) {
		if a.drop(node, i) {
			freed++
		}
	}
	return freed
}

// Free counts the subnets nobody holds.
func (a *Allocator) Free() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.count - len(a.holders)
}

// take makes node a holder of subnet i; a.mu is held.
func (a *Allocator) take(node string, i int) {
	if slices.Contains(a.held[node], i) {
		return
	}
	a.holders[i] = append(a.holders[i], node)
	idx := append(a.held[node], i)
	slices.Sort(idx)
	a.held[node] = idx
}

// drop removes node as a holder of subnet i, reporting whether i became
// free; a.mu is held.
func (a *Allocator) drop(node string, i int) bool {
	a.held[node] = slices.DeleteFunc(a.held[node], func(j int) bool { return j == i })
	if len(a.held[node]) == 0 {
		delete(a.held, node)
	}
	a.holders[i] = slices.DeleteFunc(a.holders[i], func(n string) bool { return n == node })
	if len(a.holders[i]) == 0 {
		delete(a.holders, i)
		return true
	}
	return false
}

// cover is the run of subnets c covers: the one containing it when c is
// smaller than a subnet, all those inside it when larger. ok is false when
// c is not inside the range.
func (a *Allocator) cover(c netip.Prefix) (first, n int, ok bool) {
	c = c.Masked()
	if c.Bits() < a.cluster.Bits() || !a.cluster.Contains(c.Addr()) {
		return 0, 0, false
	}
	first = getBits(c.Addr().AsSlice(), a.cluster.Bits(), a.size)
	if c.Bits() >= a.size {
		return first, 1, true
	}
	return first, 1 << (a.size - c.Bits()), true
}

// getBits reads bits [from, to) of the big-endian address b as a number.
func getBits(b []byte, from, to int) int {
	v := 0
	for bit := from; bit < to; bit++ {
		v <<= 1
		if b[bit/8]&(0x80>>(bit%8)) != 0 {
			v |= 1
		}
	}
	return v
}

// setBits writes v into bits [from, to) of the big-endian address b.
func setBits(b []byte, from, to, v int) {
	for bit := to - 1; bit >= from; bit-- {
		mask := byte(0x80 >> (bit % 8))
		if v&1 != 0 {
			b[bit/8] |= mask
		} else {
			b[bit/8] &^= mask
		}
		v >>= 1
	}
}
