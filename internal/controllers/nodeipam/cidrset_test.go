package nodeipam

import (
	"encoding/json"
	"errors"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func newAlloc(t *testing.T, cluster string, size int) *Allocator {
	t.Helper()
	a, err := NewAllocator(cluster, size)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func next(t *testing.T, a *Allocator, node, want string) {
	t.Helper()
	got, err := a.Next(node)
	if err != nil {
		t.Fatalf("Next(%s): %v", node, err)
	}
	if got.String() != want {
		t.Fatalf("Next(%s) = %s, want %s", node, got, want)
	}
}

func prefixes(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, v := range s {
		out = append(out, netip.MustParsePrefix(v))
	}
	return out
}

func TestNewAllocatorValidates(t *testing.T) {
	for _, tc := range []struct {
		cluster string
		size    int
		ok      bool
	}{
		{"10.42.0.0/16", 24, true},
		{"10.42.7.9/16", 24, true}, // host bits are masked off, as upstream
		{"fd00:42::/56", 64, true},
		{"10.42.0.0/30", 31, true},
		{"10.42.0.0/16", 16, false},
		{"10.42.0.0/16", 8, false},
		{"10.42.0.0/16", 33, false},
		{"10.42.0.0/8", 25, false}, // 2^17 subnets
		{"10.42.0.0", 24, false},
		{"not-a-cidr/16", 24, false},
		{"", 24, false},
	} {
		_, err := NewAllocator(tc.cluster, tc.size)
		if (err == nil) != tc.ok {
			t.Errorf("NewAllocator(%q, %d) error = %v, want ok=%v", tc.cluster, tc.size, err, tc.ok)
		}
	}
}

func TestNextHandsOutInOrder(t *testing.T) {
	a := newAlloc(t, "10.42.0.0/16", 24)
	next(t, a, "a", "10.42.0.0/24")
	next(t, a, "b", "10.42.1.0/24")
	next(t, a, "c", "10.42.2.0/24")
	// Asking again for a node that holds one gives the same one.
	next(t, a, "b", "10.42.1.0/24")
	if got := a.Free(); got != 256-3 {
		t.Errorf("Free = %d, want 253", got)
	}
}

func TestSubnetsAcrossByteBoundaries(t *testing.T) {
	a := newAlloc(t, "10.42.0.0/16", 26)
	for i, want := range map[int]string{0: "10.42.0.0/26", 1: "10.42.0.64/26", 4: "10.42.1.0/26", 1023: "10.42.255.192/26"} {
		if got := a.Subnet(i).String(); got != want {
			t.Errorf("Subnet(%d) = %s, want %s", i, got, want)
		}
	}
	v6 := newAlloc(t, "fd00:42::/48", 64)
	if got := v6.Subnet(0x1234).String(); got != "fd00:42:0:1234::/64" {
		t.Errorf("IPv6 Subnet = %s", got)
	}
	next(t, v6, "a", "fd00:42::/64")
	next(t, v6, "b", "fd00:42:0:1::/64")
}

func TestReleaseAndReuse(t *testing.T) {
	a := newAlloc(t, "10.42.0.0/16", 24)
	next(t, a, "a", "10.42.0.0/24")
	next(t, a, "b", "10.42.1.0/24")
	next(t, a, "c", "10.42.2.0/24")
	if freed := a.Release("b"); freed != 1 {
		t.Fatalf("Release(b) freed %d, want 1", freed)
	}
	if freed := a.Release("b"); freed != 0 {
		t.Fatalf("second Release(b) freed %d, want 0", freed)
	}
	next(t, a, "d", "10.42.1.0/24") // the lowest free one again
	next(t, a, "e", "10.42.3.0/24")
}

func TestExhaustion(t *testing.T) {
	for _, tc := range []struct {
		cluster string
		size    int
		want    []string
	}{
		{"10.42.0.0/30", 31, []string{"10.42.0.0/31", "10.42.0.2/31"}},
		{"10.42.0.0/16", 17, []string{"10.42.0.0/17", "10.42.128.0/17"}},
	} {
		a := newAlloc(t, tc.cluster, tc.size)
		next(t, a, "a", tc.want[0])
		next(t, a, "b", tc.want[1])
		if p, err := a.Next("c"); !errors.Is(err, ErrFull) {
			t.Fatalf("%s: third Next = %v, %v; want ErrFull", tc.cluster, p, err)
		}
		a.Release("a")
		next(t, a, "c", tc.want[0])
		if _, err := a.Next("d"); !errors.Is(err, ErrFull) {
			t.Fatalf("%s: Next after refill = %v, want ErrFull", tc.cluster, err)
		}
	}
}

func TestOccupyExisting(t *testing.T) {
	a := newAlloc(t, "10.42.0.0/16", 24)
	outside, _ := a.Occupy("pre", prefixes("10.42.0.0/24", "fd00::/64")) // other family ignored
	if len(outside) != 0 {
		t.Fatalf("outside = %v", outside)
	}
	a.Occupy("pre2", prefixes("10.42.2.128/25")) // smaller: holds the /24 around it
	a.Occupy("big", prefixes("10.42.4.0/23"))    // larger: holds both /24s in it
	next(t, a, "a", "10.42.1.0/24")
	next(t, a, "b", "10.42.3.0/24")
	next(t, a, "c", "10.42.6.0/24")
	// Occupying again is idempotent; occupying something else lets go of
	// the old.
	a.Occupy("pre", prefixes("10.42.0.0/24"))
	if _, freed := a.Occupy("pre", prefixes("10.42.9.0/24")); freed != 1 {
		t.Fatalf("moving pre freed %d, want 1", freed)
	}
	next(t, a, "d", "10.42.0.0/24")
}

func TestSharedSubnetFreedWhenLastHolderGoes(t *testing.T) {
	a := newAlloc(t, "10.42.0.0/16", 24)
	a.Occupy("x", prefixes("10.42.0.0/24"))
	a.Occupy("y", prefixes("10.42.0.0/24"))
	if freed := a.Release("x"); freed != 0 {
		t.Fatalf("Release(x) freed %d while y holds it", freed)
	}
	next(t, a, "a", "10.42.1.0/24")
	if freed := a.Release("y"); freed != 1 {
		t.Fatalf("Release(y) freed %d, want 1", freed)
	}
	next(t, a, "b", "10.42.0.0/24")
}

func TestOccupyOutOfRange(t *testing.T) {
	a := newAlloc(t, "10.42.0.0/16", 24)
	outside, _ := a.Occupy("n", prefixes("192.168.0.0/24", "10.0.0.0/8", "10.42.3.0/24"))
	want := []string{"192.168.0.0/24", "10.0.0.0/8"}
	if len(outside) != len(want) || outside[0].String() != want[0] || outside[1].String() != want[1] {
		t.Fatalf("outside = %v, want %v", outside, want)
	}
	// The in-range one is held, the others hold nothing.
	if got := a.Free(); got != 255 {
		t.Fatalf("Free = %d, want 255", got)
	}
	next(t, a, "a", "10.42.0.0/24")
}

func TestParseAndPodCIDRs(t *testing.T) {
	n := &corev1.Node{Spec: corev1.NodeSpec{PodCIDR: "10.42.1.0/24"}}
	if got := podCIDRs(n); len(got) != 1 || got[0] != "10.42.1.0/24" {
		t.Errorf("podCIDRs with only podCIDR = %v", got)
	}
	n.Spec.PodCIDRs = []string{"10.42.1.0/24", "fd00::/64"}
	if got := podCIDRs(n); len(got) != 2 {
		t.Errorf("podCIDRs = %v", got)
	}
	cidrs, bad := parseCIDRs([]string{"10.42.1.7/24", "nonsense"})
	if len(cidrs) != 1 || cidrs[0].String() != "10.42.1.0/24" || len(bad) != 1 || bad[0] != "nonsense" {
		t.Errorf("parseCIDRs = %v, %v", cidrs, bad)
	}
}

func TestCIDRPatch(t *testing.T) {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", UID: "uid-1", ResourceVersion: "42"}}
	b, err := cidrPatch(n, netip.MustParsePrefix("10.42.3.0/24"))
	if err != nil {
		t.Fatal(err)
	}
	var got corev1.Node
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.UID != "uid-1" || got.ResourceVersion != "42" || got.Spec.PodCIDR != "10.42.3.0/24" ||
		len(got.Spec.PodCIDRs) != 1 || got.Spec.PodCIDRs[0] != "10.42.3.0/24" {
		t.Errorf("patch = %s", b)
	}
}
