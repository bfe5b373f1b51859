package registry

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func makeService(t corev1.ServiceType, ports ...int32) *corev1.Service {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{Type: t, Selector: map[string]string{"app": "web"}}}
	for _, p := range ports {
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Port: p})
	}
	return svc
}

// created runs the create path of the service strategy: defaults, then
// PrepareForCreate.
func created(svc *corev1.Service) *corev1.Service {
	st := services().Strategy
	st.Default(svc)
	st.PrepareForCreate(svc)
	return svc
}

func TestDefaultService(t *testing.T) {
	svc := created(makeService("", 80))
	s := svc.Spec
	if s.Type != corev1.ServiceTypeClusterIP || s.SessionAffinity != corev1.ServiceAffinityNone {
		t.Errorf("type/affinity = %s/%s", s.Type, s.SessionAffinity)
	}
	if s.Ports[0].Protocol != corev1.ProtocolTCP || s.Ports[0].TargetPort != intstr.FromInt32(80) {
		t.Errorf("port = %+v", s.Ports[0])
	}
	if *s.InternalTrafficPolicy != corev1.ServiceInternalTrafficPolicyCluster || *s.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack {
		t.Errorf("policies = %v %v", *s.InternalTrafficPolicy, *s.IPFamilyPolicy)
	}
	if s.ExternalTrafficPolicy != "" {
		t.Errorf("externalTrafficPolicy = %q on a ClusterIP service", s.ExternalTrafficPolicy)
	}
	lb := created(makeService(corev1.ServiceTypeLoadBalancer, 80)).Spec
	if lb.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyCluster || !*lb.AllocateLoadBalancerNodePorts {
		t.Errorf("load balancer defaults = %v %v", lb.ExternalTrafficPolicy, lb.AllocateLoadBalancerNodePorts)
	}
}

func TestValidateService(t *testing.T) {
	tests := []struct {
		name string
		svc  *corev1.Service
		want []string
	}{
		{"valid", makeService("", 80), nil},
		{"no ports", makeService(""), []string{"FieldValueRequired spec.ports"}},
		{"headless without ports", func() *corev1.Service {
			s := makeService("")
			s.Spec.ClusterIP = "None"
			return s
		}(), nil},
		{"bad port", makeService("", 0), []string{"FieldValueInvalid spec.ports[0].port", "FieldValueInvalid spec.ports[0].targetPort"}},
		{"unnamed ports", makeService("", 80, 443), []string{"FieldValueRequired spec.ports[0].name", "FieldValueRequired spec.ports[1].name"}},
		{"bad type", makeService("Magic", 80), []string{"FieldValueNotSupported spec.type"}},
		{"external name missing", makeService(corev1.ServiceTypeExternalName), []string{"FieldValueRequired spec.externalName"}},
		{"node port on cluster IP", func() *corev1.Service {
			s := makeService("", 80)
			s.Spec.Ports[0].NodePort = 30080
			return s
		}(), []string{"FieldValueForbidden spec.ports[0].nodePort"}},
		{"bad cluster IP", func() *corev1.Service {
			s := makeService("", 80)
			s.Spec.ClusterIP = "10.0.0.300"
			return s
		}(), []string{"FieldValueInvalid spec.clusterIPs[0]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := created(tt.svc)
			got := errorStrings(validateService(svc))
			if strings.Join(got, "; ") != strings.Join(tt.want, "; ") {
				t.Errorf("errors = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestServiceUpdateKeepsAllocatedValues(t *testing.T) {
	old := created(makeService(corev1.ServiceTypeNodePort, 80))
	old.Spec.ClusterIP, old.Spec.ClusterIPs = "10.96.0.10", []string{"10.96.0.10"}
	old.Spec.Ports[0].NodePort = 30080

	// A replace that leaves out the cluster IP and the node port keeps them.
	n := makeService(corev1.ServiceTypeNodePort, 80)
	st := services().Strategy
	st.Default(n)
	st.PrepareForUpdate(n, old)
	if n.Spec.ClusterIP != "10.96.0.10" || n.Spec.Ports[0].NodePort != 30080 {
		t.Errorf("after update: clusterIP %q nodePort %d", n.Spec.ClusterIP, n.Spec.Ports[0].NodePort)
	}
	if errs := validateServiceUpdate(n, old); len(errs) != 0 {
		t.Errorf("errors = %v", errs)
	}

	// Changing the cluster IP is refused.
	n.Spec.ClusterIP, n.Spec.ClusterIPs = "10.96.0.11", []string{"10.96.0.11"}
	if got := errorStrings(validateServiceUpdate(n, old)); len(got) != 1 || got[0] != "FieldValueInvalid spec.clusterIPs[0]" {
		t.Errorf("errors = %v", got)
	}

	// Turning it into a ClusterIP service drops the node port and the
	// external traffic policy.
	c := old.DeepCopy()
	c.Spec.Type = corev1.ServiceTypeClusterIP
	st.Default(c)
	st.PrepareForUpdate(c, old)
	if c.Spec.Ports[0].NodePort != 0 || c.Spec.ExternalTrafficPolicy != "" {
		t.Errorf("after type change: nodePort %d externalTrafficPolicy %q", c.Spec.Ports[0].NodePort, c.Spec.ExternalTrafficPolicy)
	}
	if errs := validateService(c); len(errs) != 0 {
		t.Errorf("errors = %v", errs)
	}
}

func TestServiceRow(t *testing.T) {
	np := created(makeService(corev1.ServiceTypeNodePort, 80))
	np.Spec.ClusterIPs = []string{"10.96.0.10"}
	np.Spec.Ports[0].NodePort = 30080
	lb := created(makeService(corev1.ServiceTypeLoadBalancer, 443))
	en := created(makeService(corev1.ServiceTypeExternalName))
	en.Spec.ExternalName = "example.com"
	tests := []struct {
		svc                       *corev1.Service
		clusterIP, external, port string
	}{
		{np, "10.96.0.10", "<none>", "80:30080/TCP"},
		{lb, "<none>", "<pending>", "443/TCP"},
		{en, "<none>", "example.com", "<none>"},
	}
	for _, tt := range tests {
		row := serviceRow(tt.svc)
		if row[2] != tt.clusterIP || row[3] != tt.external || row[4] != tt.port || row[6] != "app=web" {
			t.Errorf("%s row = %v", tt.svc.Spec.Type, row)
		}
	}
	lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.1"}}
	if got := serviceExternalIP(lb); got != "192.0.2.1" {
		t.Errorf("load balancer external IP = %q", got)
	}
}
