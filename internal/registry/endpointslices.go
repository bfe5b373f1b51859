package registry

import (
	"net/netip"
	"reflect"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// Upstream's limits on an EndpointSlice.
const (
	maxSliceEndpoints   = 1000
	maxSliceAddresses   = 100
	maxSlicePorts       = 20000
	maxSliceTopology    = 16
	maxSliceHintedZones = 8
)

// endpointSlices are the discovery.k8s.io EndpointSlices. They have no spec,
// so their generation, which grows whenever anything but metadata (labels
// aside) changes, is kept here rather than by the generic spec rule.
func endpointSlices() Resource {
	return Resource{
		Kind: gvk(discoveryv1.SchemeGroupVersion, "EndpointSlice"), Name: "endpointslices", Singular: "endpointslice",
		Namespaced: true,
		Strategy: Strategy{
			Default: func(obj runtime.Object) {
				for i := range obj.(*discoveryv1.EndpointSlice).Ports {
					p := &obj.(*discoveryv1.EndpointSlice).Ports[i]
					if p.Name == nil {
						p.Name = ptr.To("")
					}
					if p.Protocol == nil {
						p.Protocol = ptr.To(corev1.ProtocolTCP)
					}
				}
			},
			PrepareForCreate: func(obj runtime.Object) { obj.(*discoveryv1.EndpointSlice).Generation = 1 },
			PrepareForUpdate: func(obj, old runtime.Object) {
				n, o := obj.(*discoveryv1.EndpointSlice), old.(*discoveryv1.EndpointSlice)
				n.Generation = o.Generation
				if n.AddressType != o.AddressType || !reflect.DeepEqual(n.Endpoints, o.Endpoints) ||
					!reflect.DeepEqual(n.Ports, o.Ports) || !reflect.DeepEqual(n.Labels, o.Labels) {
					n.Generation = o.Generation + 1
				}
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateEndpointSlice(obj.(*discoveryv1.EndpointSlice))
			},
			ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
				n, o := obj.(*discoveryv1.EndpointSlice), old.(*discoveryv1.EndpointSlice)
				if n.AddressType != o.AddressType {
					return field.ErrorList{field.Invalid(field.NewPath("addressType"), n.AddressType, "field is immutable")}
				}
				return nil
			},
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				column("AddressType", "string", discoveryv1.EndpointSlice{}.SwaggerDoc()["addressType"]),
				column("Ports", "string", discoveryv1.EndpointSlice{}.SwaggerDoc()["ports"]),
				column("Endpoints", "string", discoveryv1.EndpointSlice{}.SwaggerDoc()["endpoints"]),
				ageColumn,
			},
			Row: func(obj runtime.Object) []interface{} {
				s := obj.(*discoveryv1.EndpointSlice)
				var ports, addrs []string
				for _, p := range s.Ports {
					switch {
					case p.Port != nil:
						ports = append(ports, strconv.Itoa(int(*p.Port)))
					case p.Name != nil && *p.Name != "":
						ports = append(ports, *p.Name)
					default:
						ports = append(ports, "*")
					}
				}
				for _, e := range s.Endpoints {
					addrs = append(addrs, e.Addresses...)
				}
				return []interface{}{s.Name, string(s.AddressType), listWithMore(ports, 3, ",", "<unset>"),
					listWithMore(addrs, 3, ",", "<unset>"), age(s.CreationTimestamp)}
			},
		},
	}
}

func validateEndpointSlice(s *discoveryv1.EndpointSlice) field.ErrorList {
	var errs field.ErrorList
	types := []string{string(discoveryv1.AddressTypeFQDN), string(discoveryv1.AddressTypeIPv4), string(discoveryv1.AddressTypeIPv6)}
	errs = append(errs, oneOf(field.NewPath("addressType"), string(s.AddressType), types...)...)

	ep := field.NewPath("endpoints")
	if len(s.Endpoints) > maxSliceEndpoints {
		errs = append(errs, field.TooMany(ep, len(s.Endpoints), maxSliceEndpoints))
	} else {
		for i := range s.Endpoints {
			errs = append(errs, validateSliceEndpoint(&s.Endpoints[i], s.AddressType, ep.Index(i))...)
		}
	}

	pp := field.NewPath("ports")
	if len(s.Ports) > maxSlicePorts {
		return append(errs, field.TooMany(pp, len(s.Ports), maxSlicePorts))
	}
	names := sets.New[string]()
	for i, port := range s.Ports {
		ip := pp.Index(i)
		name := ptr.Deref(port.Name, "")
		if name != "" {
			errs = append(errs, invalidEach(ip.Child("name"), name, validation.IsDNS1123Label(name))...)
		}
		if names.Has(name) {
			errs = append(errs, field.Duplicate(ip.Child("name"), name))
		}
		names.Insert(name)
		if port.Protocol == nil {
			errs = append(errs, field.Required(ip.Child("protocol"), ""))
		} else {
			errs = append(errs, oneOf(ip.Child("protocol"), string(*port.Protocol),
				string(corev1.ProtocolSCTP), string(corev1.ProtocolTCP), string(corev1.ProtocolUDP))...)
		}
		if port.AppProtocol != nil {
			errs = append(errs, invalidEach(ip.Child("appProtocol"), *port.AppProtocol, validation.IsQualifiedName(*port.AppProtocol))...)
		}
	}
	return errs
}

// validateIPOfFamily checks that a is an IP address of the slice's family.
func validateIPOfFamily(p *field.Path, a string, t discoveryv1.AddressType) field.ErrorList {
	if errs := validation.IsValidIP(p, a); len(errs) > 0 {
		return errs
	}
	if ip, _ := netip.ParseAddr(a); ip.Is4() != (t == discoveryv1.AddressTypeIPv4) {
		return field.ErrorList{field.Invalid(p, a, "must be a valid "+string(t)+" address")}
	}
	return nil
}

func validateSliceEndpoint(e *discoveryv1.Endpoint, t discoveryv1.AddressType, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	ap := p.Child("addresses")
	switch {
	case len(e.Addresses) == 0:
		errs = append(errs, field.Required(ap, "must contain at least 1 address"))
	case len(e.Addresses) > maxSliceAddresses:
		errs = append(errs, field.TooMany(ap, len(e.Addresses), maxSliceAddresses))
	}
	for i, a := range e.Addresses {
		switch t {
		case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6:
			errs = append(errs, validateIPOfFamily(ap.Index(i), a, t)...)
		case discoveryv1.AddressTypeFQDN:
			errs = append(errs, validation.IsFullyQualifiedDomainName(ap.Index(i), a)...)
		}
	}
	if e.NodeName != nil {
		errs = append(errs, invalidEach(p.Child("nodeName"), *e.NodeName, validation.IsDNS1123Subdomain(*e.NodeName))...)
	}
	if e.Hostname != nil {
		errs = append(errs, invalidEach(p.Child("hostname"), *e.Hostname, validation.IsDNS1123Label(*e.Hostname))...)
	}
	tp := p.Child("deprecatedTopology")
	if len(e.DeprecatedTopology) > maxSliceTopology {
		errs = append(errs, field.TooMany(tp, len(e.DeprecatedTopology), maxSliceTopology))
	}
	errs = append(errs, metav1validation.ValidateLabels(e.DeprecatedTopology, tp)...)
	if e.Hints != nil {
		zp := p.Child("hints", "forZones")
		if len(e.Hints.ForZones) > maxSliceHintedZones {
			errs = append(errs, field.TooMany(zp, len(e.Hints.ForZones), maxSliceHintedZones))
		}
		for i, z := range e.Hints.ForZones {
			errs = append(errs, invalidEach(zp.Index(i).Child("name"), z.Name, validation.IsValidLabelValue(z.Name))...)
		}
	}
	return errs
}
