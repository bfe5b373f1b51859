package registry

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// endpoints are stored beside their services, under services/endpoints.
func endpoints() Resource {
	return Resource{
		Kind:          gvk(core, "Endpoints"),
		Name:          "endpoints",
		Singular:      "endpoints",
		ShortNames:    []string{"ep"},
		Namespaced:    true,
		StoragePrefix: "services/endpoints",
		Strategy: Strategy{
			Default: func(obj runtime.Object) {
				ep := obj.(*corev1.Endpoints)
				for i := range ep.Subsets {
					for j := range ep.Subsets[i].Ports {
						if ep.Subsets[i].Ports[j].Protocol == "" {
							ep.Subsets[i].Ports[j].Protocol = corev1.ProtocolTCP
						}
					}
				}
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateEndpoints(obj.(*corev1.Endpoints))
			},
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				column("Endpoints", "string", corev1.Endpoints{}.SwaggerDoc()["subsets"]),
				ageColumn,
			},
			Row: func(obj runtime.Object) []interface{} {
				ep := obj.(*corev1.Endpoints)
				return []interface{}{ep.Name, formatEndpoints(ep), age(ep.CreationTimestamp)}
			},
		},
	}
}

func validateEndpoints(ep *corev1.Endpoints) field.ErrorList {
	var errs field.ErrorList
	for i, ss := range ep.Subsets {
		sp := field.NewPath("subsets").Index(i)
		for j, a := range ss.Addresses {
			errs = append(errs, validateEndpointAddress(a, sp.Child("addresses").Index(j))...)
		}
		for j, a := range ss.NotReadyAddresses {
			errs = append(errs, validateEndpointAddress(a, sp.Child("notReadyAddresses").Index(j))...)
		}
		names := sets.New[string]()
		for j, port := range ss.Ports {
			errs = append(errs, validatePort(port.Name, port.Port, port.Protocol, len(ss.Ports) > 1, names, sp.Child("ports").Index(j))...)
		}
	}
	return errs
}

func validateEndpointAddress(a corev1.EndpointAddress, p *field.Path) field.ErrorList {
	ip := net.ParseIP(a.IP)
	switch {
	case ip == nil:
		return field.ErrorList{field.Invalid(p.Child("ip"), a.IP, invalidIPMsg)}
	case ip.IsUnspecified():
		return field.ErrorList{field.Invalid(p.Child("ip"), a.IP, "may not be unspecified (0.0.0.0)")}
	case ip.IsLoopback():
		return field.ErrorList{field.Invalid(p.Child("ip"), a.IP, "may not be in the loopback range (127.0.0.0/8, ::1/128)")}
	case ip.IsLinkLocalUnicast():
		return field.ErrorList{field.Invalid(p.Child("ip"), a.IP, "may not be in the link-local range (169.254.0.0/16, fe80::/10)")}
	case ip.IsLinkLocalMulticast():
		return field.ErrorList{field.Invalid(p.Child("ip"), a.IP, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)")}
	}
	if a.Hostname != "" {
		return invalidEach(p.Child("hostname"), a.Hostname, validation.IsDNS1123Label(a.Hostname))
	}
	return nil
}

// formatEndpoints is the ENDPOINTS column: up to three ip:port pairs, then
// how many more there are.
func formatEndpoints(ep *corev1.Endpoints) string {
	if len(ep.Subsets) == 0 {
		return "<none>"
	}
	const max = 3
	var list []string
	count := 0
	add := func(s string) {
		count++
		if len(list) < max {
			list = append(list, s)
		}
	}
	for _, ss := range ep.Subsets {
		if len(ss.Ports) == 0 {
			for _, a := range ss.Addresses {
				add(a.IP)
			}
			continue
		}
		for _, port := range ss.Ports {
			for _, a := range ss.Addresses {
				add(net.JoinHostPort(a.IP, strconv.Itoa(int(port.Port))))
			}
		}
	}
	s := strings.Join(list, ",")
	if count > max {
		return fmt.Sprintf("%s + %d more...", s, count-max)
	}
	return s
}
