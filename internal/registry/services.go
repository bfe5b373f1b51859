package registry

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// services are stored under services/specs, as upstream does. Their
// cluster IPs and node ports are allocated elsewhere (the API server's
// allocators); the strategy only defaults, validates and keeps allocated
// values across updates that omit them (kubectl replace, apply).
func services() Resource {
	return Resource{
		Kind:          gvk(core, "Service"),
		Name:          "services",
		Singular:      "service",
		ShortNames:    []string{"svc"},
		Categories:    []string{"all"},
		Namespaced:    true,
		Subresources:  []string{"status", "proxy"},
		StoragePrefix: "services/specs",
		ValidName:     apivalidation.NameIsDNS1035Label,
		Strategy: Strategy{
			HasStatus: true,
			Default:   func(obj runtime.Object) { defaultService(obj.(*corev1.Service)) },
			PrepareForCreate: func(obj runtime.Object) {
				svc := obj.(*corev1.Service)
				svc.Status = corev1.ServiceStatus{}
				normalizeClusterIPs(svc)
				if needsClusterIP(svc) && svc.Spec.IPFamilyPolicy == nil {
					svc.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicySingleStack)
				}
			},
			PrepareForUpdate: func(obj, old runtime.Object) {
				prepareServiceUpdate(obj.(*corev1.Service), old.(*corev1.Service))
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateService(obj.(*corev1.Service))
			},
			ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
				return validateServiceUpdate(obj.(*corev1.Service), old.(*corev1.Service))
			},
			ValidateStatusUpdate: func(obj, old runtime.Object) field.ErrorList {
				return validateServiceStatus(&obj.(*corev1.Service).Status)
			},
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				column("Type", "string", corev1.ServiceSpec{}.SwaggerDoc()["type"]),
				column("Cluster-IP", "string", corev1.ServiceSpec{}.SwaggerDoc()["clusterIP"]),
				column("External-IP", "string", corev1.ServiceSpec{}.SwaggerDoc()["externalIPs"]),
				column("Port(s)", "string", corev1.ServiceSpec{}.SwaggerDoc()["ports"]),
				ageColumn,
				wideColumn("Selector", "string", corev1.ServiceSpec{}.SwaggerDoc()["selector"]),
			},
			Row: func(obj runtime.Object) []interface{} { return serviceRow(obj.(*corev1.Service)) },
			Fields: func(obj runtime.Object) fields.Set {
				svc := obj.(*corev1.Service)
				return fields.Set{"spec.clusterIP": svc.Spec.ClusterIP, "spec.type": string(svc.Spec.Type)}
			},
		},
	}
}

func defaultService(svc *corev1.Service) {
	s := &svc.Spec
	if s.SessionAffinity == "" {
		s.SessionAffinity = corev1.ServiceAffinityNone
	}
	switch s.SessionAffinity {
	case corev1.ServiceAffinityNone:
		s.SessionAffinityConfig = nil
	case corev1.ServiceAffinityClientIP:
		if c := s.SessionAffinityConfig; c == nil || c.ClientIP == nil || c.ClientIP.TimeoutSeconds == nil {
			s.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{
				TimeoutSeconds: ptr.To(corev1.DefaultClientIPServiceAffinitySeconds)}}
		}
	}
	if s.Type == "" {
		s.Type = corev1.ServiceTypeClusterIP
	}
	for i := range s.Ports {
		p := &s.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.TargetPort == intstr.FromInt32(0) || p.TargetPort == intstr.FromString("") {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	if externallyAccessible(svc) && s.ExternalTrafficPolicy == "" {
		s.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	if s.InternalTrafficPolicy == nil && s.Type != corev1.ServiceTypeExternalName {
		s.InternalTrafficPolicy = ptr.To(corev1.ServiceInternalTrafficPolicyCluster)
	}
	if s.Type == corev1.ServiceTypeLoadBalancer {
		if s.AllocateLoadBalancerNodePorts == nil {
			s.AllocateLoadBalancerNodePorts = ptr.To(true)
		}
		for i, ing := range svc.Status.LoadBalancer.Ingress {
			if ing.IP != "" && ing.IPMode == nil {
				svc.Status.LoadBalancer.Ingress[i].IPMode = ptr.To(corev1.LoadBalancerIPModeVIP)
			}
		}
	}
}

func externallyAccessible(svc *corev1.Service) bool {
	t := svc.Spec.Type
	return t == corev1.ServiceTypeLoadBalancer || t == corev1.ServiceTypeNodePort ||
		(t == corev1.ServiceTypeClusterIP && len(svc.Spec.ExternalIPs) > 0)
}

func needsClusterIP(svc *corev1.Service) bool { return svc.Spec.Type != corev1.ServiceTypeExternalName }

func needsNodePorts(svc *corev1.Service) bool {
	switch svc.Spec.Type {
	case corev1.ServiceTypeNodePort:
		return true
	case corev1.ServiceTypeLoadBalancer:
		return svc.Spec.AllocateLoadBalancerNodePorts == nil || *svc.Spec.AllocateLoadBalancerNodePorts
	}
	return false
}

func needsHealthCheckNodePort(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
}

// normalizeClusterIPs keeps clusterIP and clusterIPs[0] in step.
func normalizeClusterIPs(svc *corev1.Service) {
	s := &svc.Spec
	switch {
	case s.ClusterIP != "" && len(s.ClusterIPs) == 0:
		s.ClusterIPs = []string{s.ClusterIP}
	case s.ClusterIP == "" && len(s.ClusterIPs) > 0:
		s.ClusterIP = s.ClusterIPs[0]
	}
}

// prepareServiceUpdate keeps what was allocated when the update leaves it
// out, and drops what the new type no longer uses, as upstream does.
func prepareServiceUpdate(svc, old *corev1.Service) {
	s, o := &svc.Spec, &old.Spec
	if needsClusterIP(old) && needsClusterIP(svc) {
		if s.ClusterIP == "" && len(s.ClusterIPs) == 0 {
			s.ClusterIP, s.ClusterIPs = o.ClusterIP, o.ClusterIPs
		}
		if s.IPFamilyPolicy == nil {
			s.IPFamilyPolicy = o.IPFamilyPolicy
		}
		if len(s.IPFamilies) == 0 {
			s.IPFamilies = o.IPFamilies
		}
	}
	if needsNodePorts(old) && needsNodePorts(svc) {
		for i := range s.Ports {
			p := &s.Ports[i]
			for _, op := range o.Ports {
				if p.NodePort == 0 && op.Port == p.Port && op.Protocol == p.Protocol {
					p.NodePort = op.NodePort
				}
			}
		}
	}
	if needsHealthCheckNodePort(old) && needsHealthCheckNodePort(svc) && s.HealthCheckNodePort == 0 {
		s.HealthCheckNodePort = o.HealthCheckNodePort
	}
	normalizeClusterIPs(svc)
	if needsClusterIP(svc) && s.IPFamilyPolicy == nil {
		s.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicySingleStack)
	}

	if s.Type == o.Type {
		return
	}
	if !needsClusterIP(svc) && needsClusterIP(old) {
		if s.ClusterIP == o.ClusterIP {
			s.ClusterIP, s.ClusterIPs = "", nil
		}
		if ptr.Equal(s.IPFamilyPolicy, o.IPFamilyPolicy) {
			s.IPFamilyPolicy = nil
		}
		if strings.Join(familyStrings(s.IPFamilies), ",") == strings.Join(familyStrings(o.IPFamilies), ",") {
			s.IPFamilies = nil
		}
		if ptr.Equal(s.InternalTrafficPolicy, o.InternalTrafficPolicy) {
			s.InternalTrafficPolicy = nil
		}
	}
	if !needsNodePorts(svc) && needsNodePorts(old) {
		for i := range s.Ports {
			for _, op := range o.Ports {
				if s.Ports[i].NodePort != 0 && s.Ports[i].NodePort == op.NodePort {
					s.Ports[i].NodePort = 0
				}
			}
		}
	}
	if !needsHealthCheckNodePort(svc) && s.HealthCheckNodePort == o.HealthCheckNodePort {
		s.HealthCheckNodePort = 0
	}
	if !externallyAccessible(svc) && s.ExternalTrafficPolicy == o.ExternalTrafficPolicy {
		s.ExternalTrafficPolicy = ""
	}
	if s.Type != corev1.ServiceTypeLoadBalancer {
		if ptr.Equal(s.AllocateLoadBalancerNodePorts, o.AllocateLoadBalancerNodePorts) {
			s.AllocateLoadBalancerNodePorts = nil
		}
		if ptr.Equal(s.LoadBalancerClass, o.LoadBalancerClass) {
			s.LoadBalancerClass = nil
		}
	}
}

func familyStrings(fs []corev1.IPFamily) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return out
}

func serviceRow(svc *corev1.Service) []interface{} {
	clusterIP := "<none>"
	if len(svc.Spec.ClusterIPs) > 0 {
		clusterIP = svc.Spec.ClusterIPs[0]
	}
	ports := make([]string, len(svc.Spec.Ports))
	for i, p := range svc.Spec.Ports {
		if p.NodePort > 0 {
			ports[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol)
		} else {
			ports[i] = fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		}
	}
	return []interface{}{svc.Name, string(svc.Spec.Type), clusterIP, serviceExternalIP(svc),
		orNone(strings.Join(ports, ",")), age(svc.CreationTimestamp), labels.FormatLabels(svc.Spec.Selector)}
}

// serviceExternalIP is the EXTERNAL-IP column: external IPs, the load
// balancer's addresses (<pending> until it has some), or the external name.
func serviceExternalIP(svc *corev1.Service) string {
	switch svc.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		return orNone(strings.Join(svc.Spec.ExternalIPs, ","))
	case corev1.ServiceTypeLoadBalancer:
		var ips []string
		for _, ing := range svc.Status.LoadBalancer.Ingress {
			if ing.IP != "" {
				ips = append(ips, ing.IP)
			} else if ing.Hostname != "" {
				ips = append(ips, ing.Hostname)
			}
		}
		ips = append(ips, svc.Spec.ExternalIPs...)
		if len(ips) == 0 {
			return "<pending>"
		}
		return strings.Join(ips, ",")
	case corev1.ServiceTypeExternalName:
		return svc.Spec.ExternalName
	}
	return "<unknown>"
}
