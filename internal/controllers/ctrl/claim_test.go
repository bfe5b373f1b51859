package ctrl

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// patchCall is one call of the recording Patcher.
type patchCall struct {
	namespace, name string
	patch           []byte
}

// recorder is a Patcher that records its calls and fails for the names
// in errs.
type recorder struct {
	calls []patchCall
	errs  map[string]error
}

func (r *recorder) patch(_ context.Context, namespace, name string, patch []byte) error {
	r.calls = append(r.calls, patchCall{namespace, name, patch})
	return r.errs[name]
}

// decodedPatch is what the adopt and release patches hold.
type decodedPatch struct {
	Metadata struct {
		UID             types.UID        `json:"uid"`
		OwnerReferences []map[string]any `json:"ownerReferences"`
	} `json:"metadata"`
}

func decode(t *testing.T, b []byte) decodedPatch {
	t.Helper()
	var p decodedPatch
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("patch %s is not JSON: %v", b, err)
	}
	return p
}

var rsKind = appsv1.SchemeGroupVersion.WithKind("ReplicaSet")

func testOwner(deleting bool) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web", UID: "owner-uid"}}
	if deleting {
		rs.DeletionTimestamp = ptr.To(metav1.Now())
	}
	return rs
}

func testClaim(owner metav1.Object) Claim {
	return Claim{Owner: owner, Kind: rsKind, Selector: labels.SelectorFromSet(labels.Set{"app": "web"})}
}

// testPod makes a pod; owner "" is an orphan, otherwise the pod has a
// controller reference to that owner uid.
func testPod(name string, lbls map[string]string, owner types.UID) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID(name + "-uid"), Labels: lbls}}
	if owner != "" {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "some-rs",
			UID: owner, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}
	}
	return p
}

var (
	matching = map[string]string{"app": "web"}
	other    = map[string]string{"app": "db"}
)

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func sameNames(t *testing.T, got []*corev1.Pod, want ...string) {
	t.Helper()
	g := names(got)
	if len(g) != len(want) {
		t.Fatalf("claimed %v, want %v", g, want)
	}
	for i := range g {
		if g[i] != want[i] {
			t.Fatalf("claimed %v, want %v", g, want)
		}
	}
}

func TestClaimAdoptsMatchingOrphan(t *testing.T) {
	r := &recorder{}
	pods := []*corev1.Pod{testPod("orphan", matching, "")}
	got, err := ClaimObjects(context.Background(), testClaim(testOwner(false)), pods, r.patch)
	if err != nil {
		t.Fatal(err)
	}
	sameNames(t, got, "orphan")
	if len(r.calls) != 1 || r.calls[0].namespace != "ns" || r.calls[0].name != "orphan" {
		t.Fatalf("patch calls = %+v, want one for ns/orphan", r.calls)
	}
	p := decode(t, r.calls[0].patch)
	if p.Metadata.UID != "orphan-uid" {
		t.Errorf("patch uid precondition = %q, want the pod's uid", p.Metadata.UID)
	}
	if len(p.Metadata.OwnerReferences) != 1 {
		t.Fatalf("ownerReferences = %v, want one", p.Metadata.OwnerReferences)
	}
	ref := p.Metadata.OwnerReferences[0]
	want := map[string]any{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": "owner-uid",
		"controller": true, "blockOwnerDeletion": true}
	for k, v := range want {
		if ref[k] != v {
			t.Errorf("ownerReference %s = %v, want %v (ref %v)", k, ref[k], v, ref)
		}
	}
	if _, ok := ref["$patch"]; ok {
		t.Errorf("adopt patch has a $patch directive: %v", ref)
	}
}

func TestClaimAdoptsOrphanWithNonControllerOwner(t *testing.T) {
	r := &recorder{}
	pod := testPod("p", matching, "")
	pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "cm", UID: "cm-uid"}}
	got, err := ClaimObjects(context.Background(), testClaim(testOwner(false)), []*corev1.Pod{pod}, r.patch)
	if err != nil {
		t.Fatal(err)
	}
	sameNames(t, got, "p")
	if len(r.calls) != 1 {
		t.Fatalf("want an adoption patch, got %d calls", len(r.calls))
	}
}

func TestClaimKeepsOwnedMatching(t *testing.T) {
	r := &recorder{}
	pods := []*corev1.Pod{testPod("mine", matching, "owner-uid")}
	got, err := ClaimObjects(context.Background(), testClaim(testOwner(false)), pods, r.patch)
	if err != nil {
		t.Fatal(err)
	}
	sameNames(t, got, "mine")
	if len(r.calls) != 0 {
		t.Fatalf("patched an object already owned: %+v", r.calls)
	}
}

func TestClaimReleasesOwnedNotMatching(t *testing.T) {
	r := &recorder{}
	pods := []*corev1.Pod{testPod("stray", other, "owner-uid")}
	got, err := ClaimObjects(context.Background(), testClaim(testOwner(false)), pods, r.patch)
	if err != nil {
		t.Fatal(err)
	}
	sameNames(t, got)
	if len(r.calls) != 1 || r.calls[0].name != "stray" {
		t.Fatalf("patch calls = %+v, want one release of stray", r.calls)
	}
	p := decode(t, r.calls[0].patch)
	if p.Metadata.UID != "stray-uid" {
		t.Errorf("release uid precondition = %q, want stray-uid", p.Metadata.UID)
	}
	if len(p.Metadata.OwnerReferences) != 1 {
		t.Fatalf("ownerReferences = %v, want one delete directive", p.Metadata.OwnerReferences)
	}
	ref := p.Metadata.OwnerReferences[0]
	if ref["$patch"] != "delete" || ref["uid"] != "owner-uid" || len(ref) != 2 {
		t.Errorf("release directive = %v, want {$patch: delete, uid: owner-uid}", ref)
	}
}

func TestClaimLeavesOtherControllersObjects(t *testing.T) {
	r := &recorder{}
	pods := []*corev1.Pod{testPod("theirs", matching, "other-uid"), testPod("theirs2", other, "other-uid")}
	got, err := ClaimObjects(context.Background(), testClaim(testOwner(false)), pods, r.patch)
	if err != nil {
		t.Fatal(err)
	}
	sameNames(t, got)
	if len(r.calls) != 0 {
		t.Fatalf("touched another controller's objects: %+v", r.calls)
	}
}

func TestClaimIgnoresNonMatchingOrphan(t *testing.T) {
	r := &recorder{}
	got, err := ClaimObjects(context.Background(), testClaim(testOwner(false)), []*corev1.Pod{testPod("x", other, "")}, r.patch)
	if err != nil {
		t.Fatal(err)
	}
	sameNames(t, got)
	if len(r.calls) != 0 {
		t.Fatalf("patched a non-matching orphan: %+v", r.calls)
	}
}

func TestClaimOwnerBeingDeleted(t *testing.T) {
	r := &recorder{}
	canAdopt := 0
	cl := testClaim(testOwner(true))
	cl.CanAdopt = func(context.Context) error { canAdopt++; return nil }
	pods := []*corev1.Pod{
		testPod("orphan", matching, ""),
		testPod("mine", matching, "owner-uid"),
		testPod("stray", other, "owner-uid"),
	}
	got, err := ClaimObjects(context.Background(), cl, pods, r.patch)
	if err != nil {
		t.Fatal(err)
	}
	// It keeps what it owns and still matches, adopts nothing, and
	// releases nothing (it is going; upstream does the same).
	sameNames(t, got, "mine")
	if len(r.calls) != 0 {
		t.Fatalf("an owner being deleted patched objects: %+v", r.calls)
	}
	if canAdopt != 0 {
		t.Errorf("CanAdopt asked %d times for an owner being deleted", canAdopt)
	}
}

func TestClaimDoesNotAdoptObjectBeingDeleted(t *testing.T) {
	r := &recorder{}
	pod := testPod("dying", matching, "")
	pod.DeletionTimestamp = ptr.To(metav1.Now())
	got, err := ClaimObjects(context.Background(), testClaim(testOwner(false)), []*corev1.Pod{pod}, r.patch)
	if err != nil {
		t.Fatal(err)
	}
	sameNames(t, got)
	if len(r.calls) != 0 {
		t.Fatalf("adopted an object being deleted: %+v", r.calls)
	}
}

func TestClaimCanAdoptAskedOnce(t *testing.T) {
	r := &recorder{}
	asked := 0
	cl := testClaim(testOwner(false))
	cl.CanAdopt = func(context.Context) error { asked++; return nil }
	pods := []*corev1.Pod{testPod("mine", matching, "owner-uid"), testPod("o1", matching, ""), testPod("o2", matching, "")}
	got, err := ClaimObjects(context.Background(), cl, pods, r.patch)
	if err != nil {
		t.Fatal(err)
	}
	sameNames(t, got, "mine", "o1", "o2")
	if asked != 1 {
		t.Errorf("CanAdopt asked %d times, want once", asked)
	}
}

func TestClaimCanAdoptNotAskedWithoutOrphans(t *testing.T) {
	asked := 0
	cl := testClaim(testOwner(false))
	cl.CanAdopt = func(context.Context) error { asked++; return errors.New("must not be asked") }
	r := &recorder{}
	got, err := ClaimObjects(context.Background(), cl, []*corev1.Pod{testPod("mine", matching, "owner-uid")}, r.patch)
	if err != nil || asked != 0 {
		t.Fatalf("err %v, CanAdopt asked %d times; want no error and no question", err, asked)
	}
	sameNames(t, got, "mine")
}

func TestClaimCanAdoptErrorStopsAdoption(t *testing.T) {
	r := &recorder{}
	gone := errors.New("owner gone")
	asked := 0
	cl := testClaim(testOwner(false))
	cl.CanAdopt = func(context.Context) error { asked++; return gone }
	pods := []*corev1.Pod{testPod("mine", matching, "owner-uid"), testPod("o1", matching, ""), testPod("o2", matching, "")}
	got, err := ClaimObjects(context.Background(), cl, pods, r.patch)
	if !errors.Is(err, gone) {
		t.Fatalf("err = %v, want one wrapping %v", err, gone)
	}
	sameNames(t, got, "mine")
	if len(r.calls) != 0 {
		t.Fatalf("adopted although CanAdopt failed: %+v", r.calls)
	}
	if asked != 1 {
		t.Errorf("CanAdopt asked %d times, want once", asked)
	}
}

func TestClaimIgnoresNotFound(t *testing.T) {
	podsGR := schema.GroupResource{Resource: "pods"}
	r := &recorder{errs: map[string]error{
		"vanished":      apierrors.NewNotFound(podsGR, "vanished"),
		"stray-gone":    apierrors.NewNotFound(podsGR, "stray-gone"),
		"stray-invalid": apierrors.NewInvalid(schema.GroupKind{Kind: "Pod"}, "stray-invalid", nil),
	}}
	pods := []*corev1.Pod{
		testPod("vanished", matching, ""),
		testPod("stray-gone", other, "owner-uid"),
		testPod("stray-invalid", other, "owner-uid"),
		testPod("orphan", matching, ""),
	}
	got, err := ClaimObjects(context.Background(), testClaim(testOwner(false)), pods, r.patch)
	if err != nil {
		t.Fatalf("NotFound should be ignored, got %v", err)
	}
	sameNames(t, got, "orphan")
	if len(r.calls) != 4 {
		t.Fatalf("want all four patched, got %+v", r.calls)
	}
}

func TestClaimPatchErrorReturned(t *testing.T) {
	conflict := apierrors.NewConflict(schema.GroupResource{Resource: "pods"}, "o1", errors.New("stale"))
	r := &recorder{errs: map[string]error{"o1": conflict}}
	pods := []*corev1.Pod{testPod("mine", matching, "owner-uid"), testPod("o1", matching, ""), testPod("o2", matching, "")}
	got, err := ClaimObjects(context.Background(), testClaim(testOwner(false)), pods, r.patch)
	if !apierrors.IsConflict(err) {
		t.Fatalf("err = %v, want the conflict", err)
	}
	sameNames(t, got, "mine")
	if len(r.calls) != 1 {
		t.Fatalf("went on after an error: %+v", r.calls)
	}

	r = &recorder{errs: map[string]error{"stray": conflict}}
	_, err = ClaimObjects(context.Background(), testClaim(testOwner(false)), []*corev1.Pod{testPod("stray", other, "owner-uid")}, r.patch)
	if !apierrors.IsConflict(err) {
		t.Fatalf("release err = %v, want the conflict", err)
	}
}

func TestRecheckOwner(t *testing.T) {
	owner := testOwner(false)
	get := func(o metav1.Object, err error) func(context.Context) (metav1.Object, error) {
		return func(context.Context) (metav1.Object, error) { return o, err }
	}
	if err := RecheckOwner(owner, get(testOwner(false), nil))(context.Background()); err != nil {
		t.Errorf("same owner: %v", err)
	}
	if err := RecheckOwner(owner, get(testOwner(true), nil))(context.Background()); err == nil {
		t.Error("owner being deleted: want an error")
	}
	replaced := testOwner(false)
	replaced.UID = "new-uid"
	if err := RecheckOwner(owner, get(replaced, nil))(context.Background()); err == nil {
		t.Error("replaced owner: want an error")
	}
	nf := apierrors.NewNotFound(schema.GroupResource{Group: "apps", Resource: "replicasets"}, "web")
	if err := RecheckOwner(owner, get(nil, nf))(context.Background()); !apierrors.IsNotFound(err) {
		t.Errorf("owner gone: err = %v, want NotFound", err)
	}
}
