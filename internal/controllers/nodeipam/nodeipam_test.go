package nodeipam_test

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"skiff.dev/internal/controllers/ctrl"
	"skiff.dev/internal/controllers/ctrltest"
	"skiff.dev/internal/controllers/nodeipam"
)

func TestNewRejectsBadOptions(t *testing.T) {
	for _, opts := range []ctrl.Options{
		{ClusterCIDR: "10.42.0.0/16", NodeCIDRMaskSize: 16},
		{ClusterCIDR: "10.42.0.0/16", NodeCIDRMaskSize: 12},
		{ClusterCIDR: "10.42.0.0", NodeCIDRMaskSize: 24},
		{ClusterCIDR: "10.42.0.0/33", NodeCIDRMaskSize: 34},
	} {
		cc, err := ctrl.NewContext(&rest.Config{Host: "http://127.0.0.1:1"}, nil, nil, opts)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := nodeipam.New(cc); err == nil {
			t.Errorf("New with %s and /%d: no error", opts.ClusterCIDR, opts.NodeCIDRMaskSize)
		}
		cc.Shutdown()
	}
	cc, err := ctrl.NewContext(&rest.Config{Host: "http://127.0.0.1:1"}, nil, nil, ctrl.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Shutdown()
	if _, err := nodeipam.New(cc); err != nil {
		t.Errorf("New with the defaults: %v", err)
	}
}

// TestAPIServerSetsPodCIDROnce checks what the controller relies on: a
// client may set spec.podCIDR of a node that has none, and not change it.
func TestAPIServerSetsPodCIDROnce(t *testing.T) {
	env := ctrltest.Start(t, ctrl.Options{}, nil)
	ctx := context.Background()
	nodes := env.Client.CoreV1().Nodes()
	createNode(t, env, "by-patch", "")
	n, err := nodes.Patch(ctx, "by-patch", types.StrategicMergePatchType,
		[]byte(`{"spec":{"podCIDR":"10.42.7.0/24","podCIDRs":["10.42.7.0/24"]}}`), metav1.PatchOptions{})
	if err != nil {
		t.Fatalf("setting podCIDR by patch: %v", err)
	}
	if n.Spec.PodCIDR != "10.42.7.0/24" || len(n.Spec.PodCIDRs) != 1 || n.Spec.PodCIDRs[0] != "10.42.7.0/24" {
		t.Fatalf("after the patch spec = %+v", n.Spec)
	}
	_, err = nodes.Patch(ctx, "by-patch", types.StrategicMergePatchType,
		[]byte(`{"spec":{"podCIDR":"10.42.8.0/24","podCIDRs":["10.42.8.0/24"]}}`), metav1.PatchOptions{})
	if !apierrors.IsInvalid(err) {
		t.Fatalf("changing podCIDR by patch: err = %v, want Invalid", err)
	}
	t.Logf("changing podCIDR is refused: %v", err)

	n = createNode(t, env, "by-update", "")
	n.Spec.PodCIDR = "10.42.9.0/24" // podCIDRs is defaulted from it
	n, err = nodes.Update(ctx, n, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("setting podCIDR by update: %v", err)
	}
	if len(n.Spec.PodCIDRs) != 1 || n.Spec.PodCIDRs[0] != "10.42.9.0/24" {
		t.Fatalf("after the update spec = %+v", n.Spec)
	}
	n.Spec.PodCIDR, n.Spec.PodCIDRs = "", nil
	if _, err := nodes.Update(ctx, n, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
		t.Fatalf("clearing podCIDR by update: err = %v, want Invalid", err)
	}
}

func TestAssignsPodCIDRs(t *testing.T) {
	env := ctrltest.Start(t, ctrl.Options{ClusterCIDR: "10.42.0.0/16", NodeCIDRMaskSize: 24}, nil)
	cluster := netip.MustParsePrefix("10.42.0.0/16")
	// A node that has a CIDR before the controller starts keeps it.
	createNode(t, env, "pre", "10.42.5.0/24")
	env.Run(nodeipam.New)

	for _, n := range []string{"n1", "n2", "n3"} {
		createNode(t, env, n, "")
	}
	got := waitCIDRs(t, env, "n1", "n2", "n3")
	want := map[string]bool{"10.42.0.0/24": true, "10.42.1.0/24": true, "10.42.2.0/24": true}
	seen := map[string]bool{}
	for name, c := range got {
		if !want[c] || seen[c] {
			t.Fatalf("CIDRs = %v, want each of %v once", got, want)
		}
		seen[c] = true
		if !cluster.Contains(netip.MustParsePrefix(c).Addr()) {
			t.Errorf("%s got %s, outside %s", name, c, cluster)
		}
	}

	// One created with a CIDR after the start keeps it too; neither
	// pre-set CIDR is handed to anyone while lower ones run out.
	createNode(t, env, "late", "10.42.9.0/24")
	more := []string{"n4", "n5", "n6", "n7", "n8", "n9"}
	for _, n := range more {
		createNode(t, env, n, "")
	}
	for name, c := range waitCIDRs(t, env, more...) {
		if c == "10.42.5.0/24" || c == "10.42.9.0/24" || seen[c] {
			t.Fatalf("%s got %s, which is taken", name, c)
		}
		seen[c] = true
	}
	if len(seen) != 9 {
		t.Fatalf("9 nodes got %d distinct CIDRs", len(seen))
	}
	for name, c := range map[string]string{"pre": "10.42.5.0/24", "late": "10.42.9.0/24"} {
		if n := getNode(t, env, name); n.Spec.PodCIDR != c {
			t.Errorf("%s podCIDR = %q, want %s kept", name, n.Spec.PodCIDR, c)
		}
	}

	// A node outside the range keeps its CIDR and gets an event.
	createNode(t, env, "outside", "192.168.7.0/24")
	waitEvent(t, env, "outside", nodeipam.ReasonCIDROutOfRange, "")
	if n := getNode(t, env, "outside"); n.Spec.PodCIDR != "192.168.7.0/24" {
		t.Errorf("outside podCIDR = %q, want it kept", n.Spec.PodCIDR)
	}

	// A deleted node's CIDR is free again, and the lowest free one.
	freed := got["n2"]
	if err := env.Client.CoreV1().Nodes().Delete(context.Background(), "n2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	createNode(t, env, "n10", "")
	if c := waitCIDRs(t, env, "n10")["n10"]; c != freed {
		t.Errorf("n10 got %s, want the freed %s", c, freed)
	}
}

// TestLoadsExistingBeforeAllocating: nodes without CIDRs that are there at
// the start never get one that a node listed after them already has.
func TestLoadsExistingBeforeAllocating(t *testing.T) {
	env := ctrltest.Start(t, ctrl.Options{ClusterCIDR: "10.42.0.0/16", NodeCIDRMaskSize: 24}, nil)
	for _, n := range []string{"a1", "a2", "a3"} {
		createNode(t, env, n, "")
	}
	createNode(t, env, "z0", "10.42.0.0/24")
	createNode(t, env, "z1", "10.42.1.0/24")
	env.Run(nodeipam.New)
	got := waitCIDRs(t, env, "a1", "a2", "a3")
	want := map[string]bool{"10.42.2.0/24": true, "10.42.3.0/24": true, "10.42.4.0/24": true}
	seen := map[string]bool{}
	for _, c := range got {
		if !want[c] || seen[c] {
			t.Fatalf("CIDRs = %v, want each of %v once", got, want)
		}
		seen[c] = true
	}
}

func TestTinyRangeRunsOut(t *testing.T) {
	env := ctrltest.Start(t, ctrl.Options{ClusterCIDR: "10.42.0.0/23", NodeCIDRMaskSize: 24}, nil)
	env.Run(nodeipam.New)
	ctx := context.Background()
	createNode(t, env, "a", "")
	createNode(t, env, "b", "")
	waitCIDRs(t, env, "a", "b")
	createNode(t, env, "c", "")
	waitEvent(t, env, "c", nodeipam.ReasonCIDRNotAvailable, "Node c status is now: CIDRNotAvailable")
	time.Sleep(500 * time.Millisecond)
	if n := getNode(t, env, "c"); n.Spec.PodCIDR != "" || len(n.Spec.PodCIDRs) != 0 {
		t.Fatalf("c got %v from a full range", n.Spec.PodCIDRs)
	}
	// When a CIDR is freed the waiting node gets it.
	freed := getNode(t, env, "a").Spec.PodCIDR
	if err := env.Client.CoreV1().Nodes().Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if c := waitCIDRs(t, env, "c")["c"]; c != freed {
		t.Errorf("c got %s, want the freed %s", c, freed)
	}
}

func createNode(t *testing.T, env *ctrltest.Env, name, podCIDR string) *corev1.Node {
	t.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{PodCIDR: podCIDR}}
	if podCIDR != "" {
		n.Spec.PodCIDRs = []string{podCIDR}
	}
	out, err := env.Client.CoreV1().Nodes().Create(context.Background(), n, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func getNode(t *testing.T, env *ctrltest.Env, name string) *corev1.Node {
	t.Helper()
	n, err := env.Client.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitCIDRs waits until the nodes have pod CIDRs and returns them, checking
// that spec.podCIDRs is [spec.podCIDR].
func waitCIDRs(t *testing.T, env *ctrltest.Env, names ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range names {
		env.WaitFor(20*time.Second, name+" has a podCIDR", func(ctx context.Context) (bool, error) {
			n, err := env.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil || n.Spec.PodCIDR == "" {
				return false, err
			}
			if len(n.Spec.PodCIDRs) != 1 || n.Spec.PodCIDRs[0] != n.Spec.PodCIDR {
				return false, fmt.Errorf("%s: podCIDRs %v, podCIDR %s", name, n.Spec.PodCIDRs, n.Spec.PodCIDR)
			}
			out[name] = n.Spec.PodCIDR
			return true, nil
		})
	}
	return out
}

// waitEvent waits for a Warning event from cidrAllocator about the node
// with the reason (and the message, when given).
func waitEvent(t *testing.T, env *ctrltest.Env, node, reason, message string) {
	t.Helper()
	env.WaitFor(20*time.Second, reason+" event for "+node, func(ctx context.Context) (bool, error) {
		evs, err := env.Client.CoreV1().Events("").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, e := range evs.Items {
			if e.InvolvedObject.Kind == "Node" && e.InvolvedObject.Name == node && e.Reason == reason &&
				e.Type == corev1.EventTypeWarning && e.Source.Component == "cidrAllocator" &&
				(message == "" || e.Message == message) {
				return true, nil
			}
		}
		return false, nil
	})
}
