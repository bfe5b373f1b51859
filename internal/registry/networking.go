package registry

import (
	"fmt"
	"net/netip"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// maxIngressClassController is upstream's limit on spec.controller.
const maxIngressClassController = 250

var (
	invalidIngressPathParts    = []string{"//", "/./", "/../", "%2f", "%2F"}
	invalidIngressPathSuffixes = []string{"/..", "/."}
)

func ingresses() Resource {
	return Resource{
		Kind: gvk(networkingv1.SchemeGroupVersion, "Ingress"), Name: "ingresses", Singular: "ingress",
		ShortNames: []string{"ing"}, Namespaced: true, Subresources: []string{"status"},
		StoragePrefix: "ingress",
		Strategy: Strategy{
			HasStatus: true, Generation: true,
			PrepareForCreate: func(obj runtime.Object) {
				obj.(*networkingv1.Ingress).Status = networkingv1.IngressStatus{}
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateIngressSpec(&obj.(*networkingv1.Ingress).Spec, field.NewPath("spec"))
			},
			ValidateStatusUpdate: func(obj, _ runtime.Object) field.ErrorList {
				lb := obj.(*networkingv1.Ingress).Status.LoadBalancer
				var errs field.ErrorList
				for i, in := range lb.Ingress {
					ip := field.NewPath("status", "loadBalancer", "ingress").Index(i)
					if in.IP != "" {
						errs = append(errs, validation.IsValidIP(ip.Child("ip"), in.IP)...)
					}
					if in.Hostname != "" {
						errs = append(errs, validateDNSHost(in.Hostname, ip.Child("hostname"))...)
					}
				}
				return errs
			},
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				column("Class", "string", "The name of the IngressClass resource that should be used for additional configuration"),
				column("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
				column("Address", "string", "Address is a list containing ingress points for the load-balancer"),
				column("Ports", "string", "Ports of TLS configurations that open"),
				ageColumn,
			},
			Row: func(obj runtime.Object) []interface{} {
				in := obj.(*networkingv1.Ingress)
				var hosts, addrs []string
				for _, r := range in.Spec.Rules {
					if r.Host != "" {
						hosts = append(hosts, r.Host)
					}
				}
				seen := map[string]bool{}
				for _, lb := range in.Status.LoadBalancer.Ingress {
					a := lb.IP
					if a == "" {
						a = lb.Hostname
					}
					if a != "" && !seen[a] {
						seen[a] = true
						addrs = append(addrs, a)
					}
				}
				ports := "80"
				if len(in.Spec.TLS) > 0 {
					ports = "80, 443"
				}
				return []interface{}{in.Name, ptr.Deref(in.Spec.IngressClassName, "<none>"),
					listWithMore(hosts, 3, ",", "*"), strings.Join(addrs, ","), ports, age(in.CreationTimestamp)}
			},
		},
	}
}

func ingressClasses() Resource {
	return Resource{
		Kind: gvk(networkingv1.SchemeGroupVersion, "IngressClass"), Name: "ingressclasses", Singular: "ingressclass",
		Strategy: Strategy{
			Generation: true,
			Default: func(obj runtime.Object) {
				if p := obj.(*networkingv1.IngressClass).Spec.Parameters; p != nil && p.Scope == nil {
					p.Scope = ptr.To(networkingv1.IngressClassParametersReferenceScopeCluster)
				}
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateIngressClassSpec(&obj.(*networkingv1.IngressClass).Spec, field.NewPath("spec"))
			},
			ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
				n, o := obj.(*networkingv1.IngressClass).Spec.Controller, old.(*networkingv1.IngressClass).Spec.Controller
				if n != o {
					return field.ErrorList{field.Invalid(field.NewPath("spec", "controller"), n, "field is immutable")}
				}
				return nil
			},
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				column("Controller", "string", "Controller that is responsible for handling this class"),
				column("Parameters", "string", "A reference to a resource with additional parameters"),
				ageColumn,
			},
			Row: func(obj runtime.Object) []interface{} {
				c := obj.(*networkingv1.IngressClass)
				params := "<none>"
				if p := c.Spec.Parameters; p != nil {
					params = p.Kind
					if p.APIGroup != nil {
						params += "." + *p.APIGroup
					}
					params += "/" + p.Name
				}
				return []interface{}{c.Name, c.Spec.Controller, params, age(c.CreationTimestamp)}
			},
		},
	}
}

func validateIngressSpec(s *networkingv1.IngressSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(s.Rules) == 0 && s.DefaultBackend == nil {
		errs = append(errs, field.Invalid(p, s.Rules, "either `defaultBackend` or `rules` must be specified"))
	}
	if s.DefaultBackend != nil {
		errs = append(errs, validateIngressBackend(s.DefaultBackend, p.Child("defaultBackend"))...)
	}
	for i, r := range s.Rules {
		rp := p.Child("rules").Index(i)
		if r.Host != "" {
			errs = append(errs, validateIngressHost(r.Host, rp.Child("host"))...)
		}
		if r.HTTP == nil {
			continue
		}
		hp := rp.Child("http", "paths")
		if len(r.HTTP.Paths) == 0 {
			errs = append(errs, field.Required(hp, ""))
		}
		for j := range r.HTTP.Paths {
			errs = append(errs, validateIngressPath(&r.HTTP.Paths[j], hp.Index(j))...)
		}
	}
	for i, tls := range s.TLS {
		tp := p.Child("tls").Index(i)
		for j, h := range tls.Hosts {
			if strings.Contains(h, "*") {
				errs = append(errs, invalidEach(tp.Child("hosts").Index(j), h, validation.IsWildcardDNS1123Subdomain(h))...)
			} else {
				errs = append(errs, invalidEach(tp.Child("hosts").Index(j), h, validation.IsDNS1123Subdomain(h))...)
			}
		}
		if tls.SecretName != "" {
			errs = append(errs, invalidEach(tp.Child("secretName"), tls.SecretName, validation.IsDNS1123Subdomain(tls.SecretName))...)
		}
	}
	if s.IngressClassName != nil {
		errs = append(errs, invalidEach(p.Child("ingressClassName"), *s.IngressClassName,
			apivalidation.NameIsDNSSubdomain(*s.IngressClassName, false))...)
	}
	return errs
}

// validateIngressHost checks a rule's host: a DNS name, possibly with a
// leading wildcard label, and never an IP address.
func validateIngressHost(h string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if _, err := netip.ParseAddr(h); err == nil {
		errs = append(errs, field.Invalid(p, h, "must be a DNS name, not an IP address"))
	}
	if strings.Contains(h, "*") {
		return append(errs, invalidEach(p, h, validation.IsWildcardDNS1123Subdomain(h))...)
	}
	return append(errs, invalidEach(p, h, validation.IsDNS1123Subdomain(h))...)
}

func validateDNSHost(h string, p *field.Path) field.ErrorList {
	errs := invalidEach(p, h, validation.IsDNS1123Subdomain(h))
	if _, err := netip.ParseAddr(h); err == nil {
		errs = append(errs, field.Invalid(p, h, "must be a DNS name, not an IP address"))
	}
	return errs
}

func validateIngressPath(hp *networkingv1.HTTPIngressPath, p *field.Path) field.ErrorList {
	if hp.PathType == nil {
		return field.ErrorList{field.Required(p.Child("pathType"), "pathType must be specified")}
	}
	var errs field.ErrorList
	pp := p.Child("path")
	switch *hp.PathType {
	case networkingv1.PathTypeExact, networkingv1.PathTypePrefix:
		if !strings.HasPrefix(hp.Path, "/") {
			errs = append(errs, field.Invalid(pp, hp.Path, "must be an absolute path"))
		}
		for _, bad := range invalidIngressPathParts {
			if strings.Contains(hp.Path, bad) {
				errs = append(errs, field.Invalid(pp, hp.Path, fmt.Sprintf("must not contain '%s'", bad)))
			}
		}
		for _, bad := range invalidIngressPathSuffixes {
			if strings.HasSuffix(hp.Path, bad) {
				errs = append(errs, field.Invalid(pp, hp.Path, fmt.Sprintf("cannot end with '%s'", bad)))
			}
		}
	case networkingv1.PathTypeImplementationSpecific:
		if hp.Path != "" && !strings.HasPrefix(hp.Path, "/") {
			errs = append(errs, field.Invalid(pp, hp.Path, "must be an absolute path"))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("pathType"), *hp.PathType, []string{string(networkingv1.PathTypeExact),
			string(networkingv1.PathTypeImplementationSpecific), string(networkingv1.PathTypePrefix)}))
	}
	return append(errs, validateIngressBackend(&hp.Backend, p.Child("backend"))...)
}

func validateIngressBackend(b *networkingv1.IngressBackend, p *field.Path) field.ErrorList {
	switch {
	case b.Resource != nil && b.Service != nil:
		return field.ErrorList{field.Invalid(p, "", "cannot set both resource and service backends")}
	case b.Resource != nil:
		r := b.Resource
		return validateTypedReference(r.APIGroup, r.Kind, r.Name, p.Child("resource"))
	case b.Service == nil:
		return field.ErrorList{field.Invalid(p, "", "resource or service backend is required")}
	}
	var errs field.ErrorList
	s := b.Service
	if s.Name == "" {
		errs = append(errs, field.Required(p.Child("service", "name"), ""))
	} else {
		errs = append(errs, invalidEach(p.Child("service", "name"), s.Name, validation.IsDNS1035Label(s.Name))...)
	}
	switch hasName, hasNumber := s.Port.Name != "", s.Port.Number != 0; {
	case hasName && hasNumber:
		errs = append(errs, field.Invalid(p, "", "cannot set both port name & port number"))
	case hasName:
		errs = append(errs, invalidEach(p.Child("service", "port", "name"), s.Port.Name, validation.IsValidPortName(s.Port.Name))...)
	case hasNumber:
		errs = append(errs, invalidEach(p.Child("service", "port", "number"), s.Port.Number, validation.IsValidPortNum(int(s.Port.Number)))...)
	default:
		errs = append(errs, field.Required(p, "port name or number is required"))
	}
	return errs
}

// validateTypedReference checks a reference to an object by API group, kind
// and name, as ingress resource backends and class parameters hold.
func validateTypedReference(group *string, kind, name string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if group != nil {
		errs = append(errs, invalidEach(p.Child("apiGroup"), *group, validation.IsDNS1123Subdomain(*group))...)
	}
	if kind == "" {
		errs = append(errs, field.Required(p.Child("kind"), "kind is required"))
	} else {
		errs = append(errs, invalidEach(p.Child("kind"), kind, path.IsValidPathSegmentName(kind))...)
	}
	if name == "" {
		errs = append(errs, field.Required(p.Child("name"), "name is required"))
	} else {
		errs = append(errs, invalidEach(p.Child("name"), name, path.IsValidPathSegmentName(name))...)
	}
	return errs
}

func validateIngressClassSpec(s *networkingv1.IngressClassSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	cp := p.Child("controller")
	if len(s.Controller) > maxIngressClassController {
		errs = append(errs, field.TooLong(cp, "", maxIngressClassController))
	}
	errs = append(errs, validation.IsDomainPrefixedPath(cp, s.Controller)...)
	params := s.Parameters
	if params == nil {
		return errs
	}
	pp := p.Child("parameters")
	errs = append(errs, validateTypedReference(params.APIGroup, params.Kind, params.Name, pp)...)
	if params.Scope == nil {
		return append(errs, field.Required(pp.Child("scope"), ""))
	}
	switch *params.Scope {
	case networkingv1.IngressClassParametersReferenceScopeNamespace:
		if params.Namespace == nil {
			errs = append(errs, field.Required(pp.Child("namespace"), "`parameters.scope` is set to 'Namespace'"))
		} else {
			errs = append(errs, invalidEach(pp.Child("namespace"), *params.Namespace, validation.IsDNS1123Label(*params.Namespace))...)
		}
	case networkingv1.IngressClassParametersReferenceScopeCluster:
		if params.Namespace != nil {
			errs = append(errs, field.Forbidden(pp.Child("namespace"), "`parameters.scope` is set to 'Cluster'"))
		}
	default:
		errs = append(errs, field.NotSupported(pp.Child("scope"), *params.Scope, []string{
			networkingv1.IngressClassParametersReferenceScopeCluster, networkingv1.IngressClassParametersReferenceScopeNamespace}))
	}
	return errs
}
