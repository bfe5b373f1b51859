package registry

import (
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func TestStorageClass(t *testing.T) {
	r := groupResource(t, "storage.k8s.io/v1", "storageclasses")
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "local"}, Provisioner: "skiff.dev/local-path"}
	checkErrs(t, "create", strategyCreate(r, sc))
	if *sc.ReclaimPolicy != corev1.PersistentVolumeReclaimDelete || *sc.VolumeBindingMode != storagev1.VolumeBindingImmediate {
		t.Errorf("defaults: %+v", sc)
	}
	if row := r.Strategy.Row(sc); row[0] != "local" || row[2] != "Delete" || row[3] != "Immediate" || row[4] != false {
		t.Errorf("row = %v", row)
	}
	sc.Annotations = map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}
	if row := r.Strategy.Row(sc); row[0] != "local (default)" {
		t.Errorf("default class row = %v", row)
	}
	checkErrs(t, "no provisioner", strategyCreate(r, &storagev1.StorageClass{}), "provisioner: Required value")
	checkErrs(t, "recycle", strategyCreate(r, &storagev1.StorageClass{Provisioner: "p",
		ReclaimPolicy: ptr.To(corev1.PersistentVolumeReclaimRecycle)}), "reclaimPolicy: Unsupported value")

	n := sc.DeepCopy()
	n.Parameters = map[string]string{"type": "ssd"}
	n.ReclaimPolicy = ptr.To(corev1.PersistentVolumeReclaimRetain)
	n.AllowVolumeExpansion = ptr.To(true)
	checkErrs(t, "update", strategyUpdate(r, n, sc), "parameters: Forbidden", "reclaimPolicy: Forbidden")
}

func TestPriorityClass(t *testing.T) {
	r := groupResource(t, "scheduling.k8s.io/v1", "priorityclasses")
	pc := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000, GlobalDefault: true}
	checkErrs(t, "create", strategyCreate(r, pc))
	if *pc.PreemptionPolicy != corev1.PreemptLowerPriority {
		t.Errorf("preemption policy = %v", *pc.PreemptionPolicy)
	}
	if row := r.Strategy.Row(pc); row[1] != int64(1000) || row[2] != true || row[4] != "PreemptLowerPriority" {
		t.Errorf("row = %v", row)
	}
	checkErrs(t, "too high", strategyCreate(r, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Value: 1000000001}),
		"value: Forbidden")
	checkErrs(t, "system name", strategyCreate(r, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "system-mine"}, Value: 1}),
		"metadata.name: Forbidden")
	checkErrs(t, "system class", strategyCreate(r, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "system-node-critical"}, Value: 2000001000}))
	checkErrs(t, "policy", strategyCreate(r, &schedulingv1.PriorityClass{PreemptionPolicy: ptr.To(corev1.PreemptionPolicy("Always"))}),
		"preemptionPolicy: Unsupported value")
	n := pc.DeepCopy()
	n.Value, n.PreemptionPolicy = 2000, ptr.To(corev1.PreemptNever)
	checkErrs(t, "update", strategyUpdate(r, n, pc), "value: Forbidden", "preemptionPolicy: Invalid value")
}

func TestPodDisruptionBudget(t *testing.T) {
	r := groupResource(t, "policy/v1", "poddisruptionbudgets")
	two, half := intstr.FromInt32(2), intstr.FromString("50%")
	pdb := &policyv1.PodDisruptionBudget{Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &two,
		Selector: &metav1.LabelSelector{MatchLabels: webLabels}}, Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 5}}
	checkErrs(t, "create", strategyCreate(r, pdb))
	if pdb.Status.DisruptionsAllowed != 0 {
		t.Errorf("status kept: %+v", pdb.Status)
	}
	pdb.Status.DisruptionsAllowed = 1
	if row := r.Strategy.Row(pdb); row[1] != "2" || row[2] != "N/A" || row[3] != int64(1) {
		t.Errorf("row = %v", row)
	}
	both := pdb.DeepCopy()
	both.Spec.MaxUnavailable = &half
	checkErrs(t, "both", r.Strategy.Validate(both), "spec: Invalid value")
	over := pdb.DeepCopy()
	over.Spec.MinAvailable = ptr.To(intstr.FromString("150%"))
	checkErrs(t, "over 100%", r.Strategy.Validate(over), "spec.minAvailable: Invalid value")
	neg := pdb.DeepCopy()
	neg.Status.ExpectedPods = -1
	checkErrs(t, "status", r.Strategy.ValidateStatusUpdate(neg, pdb), "status.expectedPods: Invalid value")
}

func TestLease(t *testing.T) {
	r := groupResource(t, "coordination.k8s.io/v1", "leases")
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "node-1"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("node-1"), LeaseDurationSeconds: ptr.To[int32](40)}}
	checkErrs(t, "valid", strategyCreate(r, l))
	if row := r.Strategy.Row(l); row[1] != "node-1" {
		t.Errorf("row = %v", row)
	}
	bad := l.DeepCopy()
	bad.Spec.LeaseDurationSeconds = ptr.To[int32](0)
	bad.Spec.PreferredHolder = ptr.To("node-2")
	checkErrs(t, "invalid", r.Strategy.Validate(bad), "spec.leaseDurationSeconds: Invalid value", "spec.preferredHolder: Forbidden")
	bad.Spec.Strategy = ptr.To(coordinationv1.CoordinatedLeaseStrategy("Newest"))
	checkErrs(t, "strategy", r.Strategy.Validate(bad), "spec.leaseDurationSeconds: Invalid value", "spec.strategy: Unsupported value")
}

func TestEndpointSlice(t *testing.T) {
	r := groupResource(t, "discovery.k8s.io/v1", "endpointslices")
	s := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "web-abc", Namespace: "default"},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}}, {Addresses: []string{"10.0.0.2"}}},
		Ports:       []discoveryv1.EndpointPort{{Port: ptr.To[int32](80)}, {Name: ptr.To("metrics"), Port: ptr.To[int32](9090)}},
	}
	checkErrs(t, "create", strategyCreate(r, s))
	if *s.Ports[0].Protocol != corev1.ProtocolTCP || *s.Ports[0].Name != "" || s.Generation != 1 {
		t.Errorf("after create: %+v", s)
	}
	if row := r.Strategy.Row(s); row[1] != "IPv4" || row[2] != "80,9090" || row[3] != "10.0.0.1,10.0.0.2" {
		t.Errorf("row = %v", row)
	}
	n := s.DeepCopy()
	n.Endpoints = append(n.Endpoints, discoveryv1.Endpoint{Addresses: []string{"10.0.0.3"}})
	checkErrs(t, "update", strategyUpdate(r, n, s))
	if n.Generation != 2 {
		t.Errorf("generation after update = %d", n.Generation)
	}
	same := n.DeepCopy()
	same.Annotations = map[string]string{"a": "b"}
	strategyUpdate(r, same, n)
	if same.Generation != 2 {
		t.Errorf("generation after annotation update = %d", same.Generation)
	}
	v6 := n.DeepCopy()
	v6.AddressType = discoveryv1.AddressTypeIPv6
	checkErrs(t, "address type change", strategyUpdate(r, v6, n),
		"addressType: Invalid value", "endpoints[0].addresses[0]: Invalid value", "endpoints[1].addresses[0]: Invalid value", "endpoints[2].addresses[0]: Invalid value")
	dup := s.DeepCopy()
	dup.Ports[1].Name = ptr.To("")
	dup.Endpoints[0].Addresses = nil
	checkErrs(t, "invalid", r.Strategy.Validate(dup), "ports[1].name: Duplicate value", "endpoints[0].addresses: Required value")
}

func TestSelfSubjectAccessReview(t *testing.T) {
	r := groupResource(t, "authorization.k8s.io/v1", "selfsubjectaccessreviews")
	checkErrs(t, "empty", r.Strategy.Validate(&authorizationv1.SelfSubjectAccessReview{}), "spec.resourceAttributes: Invalid value")
	checkErrs(t, "resource", r.Strategy.Validate(&authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods"}}}))
	checkErrs(t, "both", r.Strategy.Validate(&authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes:    &authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods"},
		NonResourceAttributes: &authorizationv1.NonResourceAttributes{Verb: "get", Path: "/healthz"}}}), "spec.nonResourceAttributes: Invalid value")
}
