package registry

import (
	"fmt"
	"net"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const invalidIPMsg = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"

// maxClientIPAffinitySeconds is the longest ClientIP session affinity, a day.
const maxClientIPAffinitySeconds = 86400

var serviceTypes = []string{string(corev1.ServiceTypeClusterIP), string(corev1.ServiceTypeExternalName),
	string(corev1.ServiceTypeLoadBalancer), string(corev1.ServiceTypeNodePort)}

func validateService(svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	s := &svc.Spec
	sp := field.NewPath("spec")
	errs = append(errs, oneOf(sp.Child("type"), string(s.Type), serviceTypes...)...)
	headless := s.ClusterIP == corev1.ClusterIPNone

	if s.Type == corev1.ServiceTypeExternalName {
		name := strings.TrimSuffix(s.ExternalName, ".")
		if name == "" {
			errs = append(errs, field.Required(sp.Child("externalName"), ""))
		} else {
			errs = append(errs, invalidEach(sp.Child("externalName"), s.ExternalName, validation.IsDNS1123Subdomain(name))...)
		}
		if s.ClusterIP != "" || len(s.ClusterIPs) > 0 {
			errs = append(errs, field.Forbidden(sp.Child("clusterIPs"), "may not be set for ExternalName services"))
		}
		if s.IPFamilyPolicy != nil {
			errs = append(errs, field.Forbidden(sp.Child("ipFamilyPolicy"), "may not be set for ExternalName services"))
		}
		if len(s.IPFamilies) > 0 {
			errs = append(errs, field.Forbidden(sp.Child("ipFamilies"), "may not be set for ExternalName services"))
		}
	} else if len(s.Ports) == 0 && !headless {
		errs = append(errs, field.Required(sp.Child("ports"), ""))
	}

	for i, ip := range s.ClusterIPs {
		ipp := sp.Child("clusterIPs").Index(i)
		switch {
		case ip == corev1.ClusterIPNone && i == 0:
			if s.Type != corev1.ServiceTypeClusterIP && s.Type != corev1.ServiceTypeExternalName {
				errs = append(errs, field.Invalid(ipp, ip, fmt.Sprintf("may not be set to 'None' for %s services", s.Type)))
			}
		case net.ParseIP(ip) == nil:
			errs = append(errs, field.Invalid(ipp, ip, invalidIPMsg))
		}
	}
	if len(s.ClusterIPs) > 0 && s.ClusterIP != s.ClusterIPs[0] {
		errs = append(errs, field.Invalid(sp.Child("clusterIPs"), s.ClusterIPs, "first value must match `clusterIP`"))
	}
	if len(s.ClusterIPs) > 2 {
		errs = append(errs, field.Invalid(sp.Child("clusterIPs"), s.ClusterIPs, "may only hold up to 2 values"))
	}

	errs = append(errs, validateServicePorts(svc, sp.Child("ports"))...)
	errs = append(errs, metav1validation.ValidateLabels(s.Selector, sp.Child("selector"))...)
	for i, ip := range s.ExternalIPs {
		if net.ParseIP(ip) == nil {
			errs = append(errs, field.Invalid(sp.Child("externalIPs").Index(i), ip, invalidIPMsg))
		}
	}
	if s.Type != corev1.ServiceTypeLoadBalancer && len(s.LoadBalancerSourceRanges) > 0 {
		errs = append(errs, field.Forbidden(sp.Child("loadBalancerSourceRanges"), "may only be used when `type` is 'LoadBalancer'"))
	}
	for i, cidr := range s.LoadBalancerSourceRanges {
		if _, _, err := net.ParseCIDR(strings.TrimSpace(cidr)); err != nil {
			errs = append(errs, field.Invalid(sp.Child("loadBalancerSourceRanges").Index(i), cidr, "must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24 "))
		}
	}

	errs = append(errs, oneOf(sp.Child("sessionAffinity"), string(s.SessionAffinity),
		string(corev1.ServiceAffinityClientIP), string(corev1.ServiceAffinityNone))...)
	if c := s.SessionAffinityConfig; s.SessionAffinity == corev1.ServiceAffinityClientIP && c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
		if t := *c.ClientIP.TimeoutSeconds; t <= 0 || t > maxClientIPAffinitySeconds {
			errs = append(errs, field.Invalid(sp.Child("sessionAffinityConfig", "clientIP", "timeoutSeconds"), t,
				fmt.Sprintf("must be greater than 0 and less than %d", maxClientIPAffinitySeconds)))
		}
	}

	etp := sp.Child("externalTrafficPolicy")
	switch {
	case s.ExternalTrafficPolicy != "" && !externallyAccessible(svc):
		errs = append(errs, field.Invalid(etp, s.ExternalTrafficPolicy, "may only be set for externally-accessible services"))
	case externallyAccessible(svc):
		errs = append(errs, oneOf(etp, string(s.ExternalTrafficPolicy),
			string(corev1.ServiceExternalTrafficPolicyCluster), string(corev1.ServiceExternalTrafficPolicyLocal))...)
	}
	if s.HealthCheckNodePort != 0 && !needsHealthCheckNodePort(svc) {
		errs = append(errs, field.Invalid(sp.Child("healthCheckNodePort"), s.HealthCheckNodePort,
			"may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
	}
	if p := s.InternalTrafficPolicy; p != nil {
		errs = append(errs, oneOf(sp.Child("internalTrafficPolicy"), string(*p),
			string(corev1.ServiceInternalTrafficPolicyCluster), string(corev1.ServiceInternalTrafficPolicyLocal))...)
	}
	if p := s.IPFamilyPolicy; p != nil {
		errs = append(errs, oneOf(sp.Child("ipFamilyPolicy"), string(*p), string(corev1.IPFamilyPolicySingleStack),
			string(corev1.IPFamilyPolicyPreferDualStack), string(corev1.IPFamilyPolicyRequireDualStack))...)
	}
	seen := sets.New[corev1.IPFamily]()
	for i, f := range s.IPFamilies {
		fp := sp.Child("ipFamilies").Index(i)
		errs = append(errs, oneOf(fp, string(f), string(corev1.IPv4Protocol), string(corev1.IPv6Protocol))...)
		if seen.Has(f) {
			errs = append(errs, field.Duplicate(fp, f))
		}
		seen.Insert(f)
	}
	return errs
}

// validatePort checks one named port of a service or endpoints subset: the
// name is required once there are several and unique among names, the
// number in range and the protocol known.
func validatePort(name string, port int32, proto corev1.Protocol, several bool, names sets.Set[string], p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case name == "" && several:
		errs = append(errs, field.Required(p.Child("name"), ""))
	case name != "":
		errs = append(errs, invalidEach(p.Child("name"), name, validation.IsDNS1123Label(name))...)
		if names.Has(name) {
			errs = append(errs, field.Duplicate(p.Child("name"), name))
		}
		names.Insert(name)
	}
	errs = append(errs, invalidEach(p.Child("port"), port, validation.IsValidPortNum(int(port)))...)
	return append(errs, validateProtocol(proto, p.Child("protocol"))...)
}

// validateServicePorts checks ports: names (required once there are
// several, unique), port numbers, protocols, target ports and node ports.
func validateServicePorts(svc *corev1.Service, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	type key struct {
		port  int32
		proto corev1.Protocol
	}
	ports, nodePorts := map[key]bool{}, map[key]bool{}
	for i, port := range svc.Spec.Ports {
		pp := p.Index(i)
		errs = append(errs, validatePort(port.Name, port.Port, port.Protocol, len(svc.Spec.Ports) > 1, names, pp)...)
		if port.TargetPort.Type == intstr.String {
			errs = append(errs, invalidEach(pp.Child("targetPort"), port.TargetPort.StrVal, validation.IsValidPortName(port.TargetPort.StrVal))...)
		} else {
			errs = append(errs, invalidEach(pp.Child("targetPort"), port.TargetPort.IntVal, validation.IsValidPortNum(int(port.TargetPort.IntVal)))...)
		}
		if k := (key{port.Port, port.Protocol}); ports[k] {
			errs = append(errs, field.Duplicate(pp, fmt.Sprintf("%d/%s", port.Port, port.Protocol)))
		} else {
			ports[k] = true
		}
		if port.NodePort == 0 {
			continue
		}
		if t := svc.Spec.Type; t == corev1.ServiceTypeClusterIP || t == corev1.ServiceTypeExternalName {
			errs = append(errs, field.Forbidden(pp.Child("nodePort"), fmt.Sprintf("may not be used when `type` is '%s'", t)))
			continue
		}
		errs = append(errs, invalidEach(pp.Child("nodePort"), port.NodePort, validation.IsValidPortNum(int(port.NodePort)))...)
		if k := (key{port.NodePort, port.Protocol}); nodePorts[k] {
			errs = append(errs, field.Duplicate(pp.Child("nodePort"), port.NodePort))
		} else {
			nodePorts[k] = true
		}
	}
	return errs
}

// validateServiceUpdate keeps the primary cluster IP, once allocated, for
// as long as the service is not of type ExternalName.
func validateServiceUpdate(svc, old *corev1.Service) field.ErrorList {
	if !needsClusterIP(svc) || !needsClusterIP(old) || len(old.Spec.ClusterIPs) == 0 {
		return nil
	}
	p := field.NewPath("spec", "clusterIPs").Index(0)
	if len(svc.Spec.ClusterIPs) == 0 {
		return field.ErrorList{field.Invalid(p, svc.Spec.ClusterIPs, "primary clusterIP can not be unset")}
	}
	if svc.Spec.ClusterIPs[0] != old.Spec.ClusterIPs[0] {
		return field.ErrorList{field.Invalid(p, svc.Spec.ClusterIPs, "may not change once set")}
	}
	return nil
}

func validateServiceStatus(st *corev1.ServiceStatus) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("status", "loadBalancer", "ingress")
	for i, ing := range st.LoadBalancer.Ingress {
		if ing.IP != "" && net.ParseIP(ing.IP) == nil {
			errs = append(errs, field.Invalid(p.Index(i).Child("ip"), ing.IP, invalidIPMsg))
		}
		if ing.Hostname != "" {
			errs = append(errs, invalidEach(p.Index(i).Child("hostname"), ing.Hostname, validation.IsDNS1123Subdomain(ing.Hostname))...)
		}
		if ing.IPMode != nil {
			if ing.IP == "" {
				errs = append(errs, field.Forbidden(p.Index(i).Child("ipMode"), "may not be specified when `ip` is not set"))
			}
			errs = append(errs, oneOf(p.Index(i).Child("ipMode"), string(*ing.IPMode),
				string(corev1.LoadBalancerIPModeVIP), string(corev1.LoadBalancerIPModeProxy))...)
		}
	}
	return errs
}
