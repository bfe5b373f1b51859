package registry

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func mkIngress(mods ...func(*networkingv1.Ingress)) *networkingv1.Ingress {
	in := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
			Host: "web.example.com",
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: "/", PathType: ptr.To(networkingv1.PathTypePrefix),
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web",
					Port: networkingv1.ServiceBackendPort{Number: 80}}},
			}}}},
		}}},
	}
	for _, m := range mods {
		m(in)
	}
	return in
}

func TestIngressValidation(t *testing.T) {
	r := groupResource(t, "networking.k8s.io/v1", "ingresses")
	path := func(in *networkingv1.Ingress) *networkingv1.HTTPIngressPath { return &in.Spec.Rules[0].HTTP.Paths[0] }
	for name, c := range map[string]struct {
		mod  func(*networkingv1.Ingress)
		want []string
	}{
		"valid":       {func(*networkingv1.Ingress) {}, nil},
		"no pathType": {func(in *networkingv1.Ingress) { path(in).PathType = nil }, []string{"spec.rules[0].http.paths[0].pathType: Required value"}},
		"relative":    {func(in *networkingv1.Ingress) { path(in).Path = "api" }, []string{"spec.rules[0].http.paths[0].path: Invalid value"}},
		"dot dot":     {func(in *networkingv1.Ingress) { path(in).Path = "/a/../b" }, []string{"spec.rules[0].http.paths[0].path: Invalid value"}},
		"IP host":     {func(in *networkingv1.Ingress) { in.Spec.Rules[0].Host = "10.0.0.1" }, []string{"spec.rules[0].host: Invalid value"}},
		"wildcard":    {func(in *networkingv1.Ingress) { in.Spec.Rules[0].Host = "*.example.com" }, nil},
		"no port":     {func(in *networkingv1.Ingress) { path(in).Backend.Service.Port.Number = 0 }, []string{"spec.rules[0].http.paths[0].backend: Required value"}},
		"no backend":  {func(in *networkingv1.Ingress) { path(in).Backend.Service = nil }, []string{"spec.rules[0].http.paths[0].backend: Invalid value"}},
		"nothing":     {func(in *networkingv1.Ingress) { in.Spec.Rules = nil }, []string{"spec: Invalid value"}},
		"class":       {func(in *networkingv1.Ingress) { in.Spec.IngressClassName = ptr.To("Bad_Class") }, []string{"spec.ingressClassName: Invalid value"}},
	} {
		checkErrs(t, name, strategyCreate(r, mkIngress(c.mod)), c.want...)
	}
	in := mkIngress(func(in *networkingv1.Ingress) {
		in.Spec.IngressClassName = ptr.To("skiff")
		in.Spec.TLS = []networkingv1.IngressTLS{{Hosts: []string{"web.example.com"}, SecretName: "web-tls"}}
		in.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.10"}, {IP: "192.0.2.10"}}
	})
	checkErrs(t, "status", r.Strategy.ValidateStatusUpdate(in, in))
	if row := r.Strategy.Row(in); row[1] != "skiff" || row[2] != "web.example.com" || row[3] != "192.0.2.10" || row[4] != "80, 443" {
		t.Errorf("row = %v", row)
	}
	in.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{{Hostname: "10.1.1.1"}}
	checkErrs(t, "IP hostname", r.Strategy.ValidateStatusUpdate(in, in), "status.loadBalancer.ingress[0].hostname: Invalid value")
}

func TestIngressClass(t *testing.T) {
	r := groupResource(t, "networking.k8s.io/v1", "ingressclasses")
	c := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "skiff"}, Spec: networkingv1.IngressClassSpec{
		Controller: "skiff.dev/ingress",
		Parameters: &networkingv1.IngressClassParametersReference{APIGroup: ptr.To("k8s.example.com"), Kind: "Params", Name: "p"},
	}}
	checkErrs(t, "valid", strategyCreate(r, c))
	if ptr.Deref(c.Spec.Parameters.Scope, "") != "Cluster" {
		t.Errorf("scope = %v", c.Spec.Parameters.Scope)
	}
	if row := r.Strategy.Row(c); row[1] != "skiff.dev/ingress" || row[2] != "Params.k8s.example.com/p" {
		t.Errorf("row = %v", row)
	}
	ns := c.DeepCopy()
	ns.Spec.Parameters.Scope = ptr.To("Namespace")
	checkErrs(t, "namespace scope", r.Strategy.Validate(ns), "spec.parameters.namespace: Required value")
	bad := c.DeepCopy()
	bad.Spec.Controller = "ingress"
	checkErrs(t, "controller", r.Strategy.Validate(bad), "spec.controller: Invalid value")
	checkErrs(t, "controller change", r.Strategy.ValidateUpdate(bad, c), "spec.controller: Invalid value")
}

func TestNetworkPolicy(t *testing.T) {
	r := groupResource(t, "networking.k8s.io/v1", "networkpolicies")
	port := intstr.FromInt32(80)
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "deny", Namespace: "default"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: webLabels},
			Egress: []networkingv1.NetworkPolicyEgressRule{{
				Ports: []networkingv1.NetworkPolicyPort{{Port: &port}},
				To:    []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8", Except: []string{"10.1.0.0/16"}}}},
			}},
		}}
	checkErrs(t, "valid", strategyCreate(r, np))
	if len(np.Spec.PolicyTypes) != 2 || *np.Spec.Egress[0].Ports[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("defaults: %+v", np.Spec)
	}
	if row := r.Strategy.Row(np); row[1] != "app=web" {
		t.Errorf("row = %v", row)
	}
	for name, c := range map[string]struct {
		mod  func(*networkingv1.NetworkPolicy)
		want []string
	}{
		"no peer": {func(np *networkingv1.NetworkPolicy) { np.Spec.Egress[0].To[0].IPBlock = nil }, []string{"spec.egress[0].to[0]: Required value"}},
		"not subset": {func(np *networkingv1.NetworkPolicy) {
			np.Spec.Egress[0].To[0].IPBlock.Except = []string{"192.168.0.0/16"}
		}, []string{"spec.egress[0].to[0].ipBlock.except[0]: Invalid value"}},
		"end port":   {func(np *networkingv1.NetworkPolicy) { np.Spec.Egress[0].Ports[0].EndPort = ptr.To[int32](10) }, []string{"spec.egress[0].ports[0].endPort: Invalid value"}},
		"both peers": {func(np *networkingv1.NetworkPolicy) { np.Spec.Egress[0].To[0].PodSelector = &metav1.LabelSelector{} }, []string{"spec.egress[0].to[0]: Forbidden"}},
		"bad type":   {func(np *networkingv1.NetworkPolicy) { np.Spec.PolicyTypes = []networkingv1.PolicyType{"Sideways"} }, []string{"spec.policyTypes[0]: Unsupported value"}},
	} {
		n := np.DeepCopy()
		c.mod(n)
		checkErrs(t, name, r.Strategy.Validate(n), c.want...)
	}
}
