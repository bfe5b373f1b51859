package registry

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

func networkPolicies() Resource {
	return Resource{
		Kind: gvk(networkingv1.SchemeGroupVersion, "NetworkPolicy"), Name: "networkpolicies", Singular: "networkpolicy",
		ShortNames: []string{"netpol"}, Namespaced: true,
		Strategy: Strategy{
			Generation: true,
			Default: func(obj runtime.Object) {
				s := &obj.(*networkingv1.NetworkPolicy).Spec
				if len(s.PolicyTypes) == 0 {
					// A policy that names no types is an ingress policy, and an
					// egress one too when it has egress rules.
					s.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
					if len(s.Egress) > 0 {
						s.PolicyTypes = append(s.PolicyTypes, networkingv1.PolicyTypeEgress)
					}
				}
				for i := range s.Ingress {
					defaultPolicyPorts(s.Ingress[i].Ports)
				}
				for i := range s.Egress {
					defaultPolicyPorts(s.Egress[i].Ports)
				}
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateNetworkPolicySpec(&obj.(*networkingv1.NetworkPolicy).Spec, field.NewPath("spec"))
			},
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				column("Pod-Selector", "string", networkingv1.NetworkPolicySpec{}.SwaggerDoc()["podSelector"]),
				ageColumn,
			},
			Row: func(obj runtime.Object) []interface{} {
				np := obj.(*networkingv1.NetworkPolicy)
				return []interface{}{np.Name, metav1.FormatLabelSelector(&np.Spec.PodSelector), age(np.CreationTimestamp)}
			},
		},
	}
}

func defaultPolicyPorts(ports []networkingv1.NetworkPolicyPort) {
	for i := range ports {
		if ports[i].Protocol == nil {
			ports[i].Protocol = ptr.To(corev1.ProtocolTCP)
		}
	}
}

func validateNetworkPolicySpec(s *networkingv1.NetworkPolicySpec, p *field.Path) field.ErrorList {
	opts := metav1validation.LabelSelectorValidationOptions{}
	errs := metav1validation.ValidateLabelSelector(&s.PodSelector, opts, p.Child("podSelector"))
	for i, in := range s.Ingress {
		ip := p.Child("ingress").Index(i)
		for j := range in.Ports {
			errs = append(errs, validatePolicyPort(&in.Ports[j], ip.Child("ports").Index(j))...)
		}
		for j := range in.From {
			errs = append(errs, validatePolicyPeer(&in.From[j], ip.Child("from").Index(j))...)
		}
	}
	for i, eg := range s.Egress {
		ep := p.Child("egress").Index(i)
		for j := range eg.Ports {
			errs = append(errs, validatePolicyPort(&eg.Ports[j], ep.Child("ports").Index(j))...)
		}
		for j := range eg.To {
			errs = append(errs, validatePolicyPeer(&eg.To[j], ep.Child("to").Index(j))...)
		}
	}
	tp := p.Child("policyTypes")
	if len(s.PolicyTypes) > 2 {
		return append(errs, field.Invalid(tp, s.PolicyTypes, "may not specify more than two policyTypes"))
	}
	for i, t := range s.PolicyTypes {
		if t != networkingv1.PolicyTypeIngress && t != networkingv1.PolicyTypeEgress {
			errs = append(errs, field.NotSupported(tp.Index(i), t, []string{
				string(networkingv1.PolicyTypeIngress), string(networkingv1.PolicyTypeEgress)}))
		}
	}
	return errs
}

func validatePolicyPort(port *networkingv1.NetworkPolicyPort, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if port.Protocol != nil {
		errs = append(errs, oneOf(p.Child("protocol"), string(*port.Protocol),
			string(corev1.ProtocolTCP), string(corev1.ProtocolUDP), string(corev1.ProtocolSCTP))...)
	}
	ep := p.Child("endPort")
	switch {
	case port.Port == nil:
		if port.EndPort != nil {
			errs = append(errs, field.Invalid(ep, *port.EndPort, "may not be specified when `port` is not specified"))
		}
	case port.Port.Type == intstr.Int:
		errs = append(errs, invalidEach(p.Child("port"), port.Port.IntVal, validation.IsValidPortNum(int(port.Port.IntVal)))...)
		if port.EndPort != nil {
			if *port.EndPort < port.Port.IntVal {
				errs = append(errs, field.Invalid(ep, port.Port.IntVal, "must be greater than or equal to `port`"))
			}
			errs = append(errs, invalidEach(ep, *port.EndPort, validation.IsValidPortNum(int(*port.EndPort)))...)
		}
	default:
		if port.EndPort != nil {
			errs = append(errs, field.Invalid(ep, *port.EndPort, "may not be specified when `port` is non-numeric"))
		}
		errs = append(errs, invalidEach(p.Child("port"), port.Port.StrVal, validation.IsValidPortName(port.Port.StrVal))...)
	}
	return errs
}

func validatePolicyPeer(peer *networkingv1.NetworkPolicyPeer, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	opts := metav1validation.LabelSelectorValidationOptions{}
	n := 0
	if peer.PodSelector != nil {
		n++
		errs = append(errs, metav1validation.ValidateLabelSelector(peer.PodSelector, opts, p.Child("podSelector"))...)
	}
	if peer.NamespaceSelector != nil {
		n++
		errs = append(errs, metav1validation.ValidateLabelSelector(peer.NamespaceSelector, opts, p.Child("namespaceSelector"))...)
	}
	if peer.IPBlock != nil {
		n++
		errs = append(errs, validateIPBlock(peer.IPBlock, p.Child("ipBlock"))...)
	}
	switch {
	case n == 0:
		errs = append(errs, field.Required(p, "must specify a peer"))
	case n > 1 && peer.IPBlock != nil:
		errs = append(errs, field.Forbidden(p, "may not specify both ipBlock and another peer"))
	}
	return errs
}

func validateIPBlock(b *networkingv1.IPBlock, p *field.Path) field.ErrorList {
	cp := p.Child("cidr")
	if b.CIDR == "" {
		return field.ErrorList{field.Required(cp, "")}
	}
	if errs := validation.IsValidCIDR(cp, b.CIDR); len(errs) > 0 {
		return errs
	}
	cidr, err := netip.ParsePrefix(b.CIDR)
	if err != nil {
		return field.ErrorList{field.Invalid(cp, b.CIDR, err.Error())}
	}
	cidr = cidr.Masked()
	var errs field.ErrorList
	for i, e := range b.Except {
		xp := p.Child("except").Index(i)
		if xerrs := validation.IsValidCIDR(xp, e); len(xerrs) > 0 {
			errs = append(errs, xerrs...)
			continue
		}
		except, err := netip.ParsePrefix(e)
		if err != nil {
			errs = append(errs, field.Invalid(xp, e, err.Error()))
			continue
		}
		except = except.Masked()
		if !cidr.Contains(except.Addr()) || cidr.Bits() >= except.Bits() {
			errs = append(errs, field.Invalid(xp, e, "must be a strict subset of `cidr`"))
		}
	}
	return errs
}
