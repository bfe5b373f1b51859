package registry

import (
	"net"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// nodes are cluster-scoped and stored under upstream's old name, minions.
// Agents create their Node with its status, so create keeps the status.
func nodes() Resource {
	return Resource{
		Kind:          gvk(core, "Node"),
		Name:          "nodes",
		Singular:      "node",
		ShortNames:    []string{"no"},
		Subresources:  []string{"status", "proxy"},
		StoragePrefix: "minions",
		Strategy: Strategy{
			HasStatus: true,
			Default: func(obj runtime.Object) {
				n := obj.(*corev1.Node)
				if s := &n.Status; s.Allocatable == nil && s.Capacity != nil {
					s.Allocatable = s.Capacity.DeepCopy()
				}
				if n.Spec.PodCIDR != "" && len(n.Spec.PodCIDRs) == 0 {
					n.Spec.PodCIDRs = []string{n.Spec.PodCIDR}
				}
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateNodeSpec(&obj.(*corev1.Node).Spec)
			},
			ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
				return validateNodeUpdate(obj.(*corev1.Node), old.(*corev1.Node))
			},
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				column("Status", "string", "The status of the node"),
				column("Roles", "string", "The roles of the node"),
				ageColumn,
				column("Version", "string", corev1.NodeSystemInfo{}.SwaggerDoc()["kubeletVersion"]),
				wideColumn("Internal-IP", "string", corev1.NodeStatus{}.SwaggerDoc()["addresses"]),
				wideColumn("External-IP", "string", corev1.NodeStatus{}.SwaggerDoc()["addresses"]),
				wideColumn("OS-Image", "string", corev1.NodeSystemInfo{}.SwaggerDoc()["osImage"]),
				wideColumn("Kernel-Version", "string", corev1.NodeSystemInfo{}.SwaggerDoc()["kernelVersion"]),
				wideColumn("Container-Runtime", "string", corev1.NodeSystemInfo{}.SwaggerDoc()["containerRuntimeVersion"]),
			},
			Row: func(obj runtime.Object) []interface{} { return nodeRow(obj.(*corev1.Node)) },
			Fields: func(obj runtime.Object) fields.Set {
				return fields.Set{"spec.unschedulable": strconv.FormatBool(obj.(*corev1.Node).Spec.Unschedulable)}
			},
		},
	}
}

func nodeRow(n *corev1.Node) []interface{} {
	info := n.Status.NodeInfo
	unknown := func(s string) string {
		if s == "" {
			return "<unknown>"
		}
		return s
	}
	return []interface{}{n.Name, nodeStatus(n), orNone(strings.Join(nodeRoles(n), ",")), age(n.CreationTimestamp),
		info.KubeletVersion, nodeAddress(n, corev1.NodeInternalIP), nodeAddress(n, corev1.NodeExternalIP),
		unknown(info.OSImage), unknown(info.KernelVersion), unknown(info.ContainerRuntimeVersion)}
}

// nodeStatus is the STATUS column: Ready, NotReady or Unknown, then
// SchedulingDisabled for a cordoned node.
func nodeStatus(n *corev1.Node) string {
	var status []string
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			if c.Status == corev1.ConditionTrue {
				status = append(status, string(c.Type))
			} else {
				status = append(status, "Not"+string(c.Type))
			}
			break
		}
	}
	if len(status) == 0 {
		status = append(status, "Unknown")
	}
	if n.Spec.Unschedulable {
		status = append(status, "SchedulingDisabled")
	}
	return strings.Join(status, ",")
}

// nodeRoles reads roles from node-role.kubernetes.io/<role> labels and the
// older kubernetes.io/role label, sorted.
func nodeRoles(n *corev1.Node) []string {
	roles := map[string]bool{}
	for k, v := range n.Labels {
		switch {
		case strings.HasPrefix(k, "node-role.kubernetes.io/"):
			if role := strings.TrimPrefix(k, "node-role.kubernetes.io/"); role != "" {
				roles[role] = true
			}
		case k == "kubernetes.io/role" && v != "":
			roles[v] = true
		}
	}
	out := make([]string, 0, len(roles))
	for r := range roles {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

func nodeAddress(n *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return "<none>"
}

func validateNodeSpec(s *corev1.NodeSpec) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec")
	for i, cidr := range s.PodCIDRs {
		if _, _, err := net.ParseCIDR(cidr); err != nil {
			errs = append(errs, field.Invalid(p.Child("podCIDRs").Index(i), cidr, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
		}
	}
	if len(s.PodCIDRs) > 0 && s.PodCIDR != s.PodCIDRs[0] {
		errs = append(errs, field.Invalid(p.Child("podCIDR"), s.PodCIDR, "must match the first element of podCIDRs"))
	}
	for i, t := range s.Taints {
		tp := p.Child("taints").Index(i)
		errs = append(errs, invalidEach(tp.Child("key"), t.Key, validation.IsQualifiedName(t.Key))...)
		if t.Value != "" {
			errs = append(errs, invalidEach(tp.Child("value"), t.Value, validation.IsValidLabelValue(t.Value))...)
		}
		errs = append(errs, oneOf(tp.Child("effect"), string(t.Effect),
			string(corev1.TaintEffectNoSchedule), string(corev1.TaintEffectPreferNoSchedule), string(corev1.TaintEffectNoExecute))...)
	}
	return errs
}

// validateNodeUpdate allows podCIDRs and providerID to be set once.
func validateNodeUpdate(n, old *corev1.Node) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec")
	if len(old.Spec.PodCIDRs) > 0 && strings.Join(old.Spec.PodCIDRs, ",") != strings.Join(n.Spec.PodCIDRs, ",") {
		errs = append(errs, field.Forbidden(p.Child("podCIDRs"), "node updates may not change podCIDR except from \"\" to valid"))
	}
	if old.Spec.ProviderID != "" && old.Spec.ProviderID != n.Spec.ProviderID {
		errs = append(errs, field.Forbidden(p.Child("providerID"), "node updates may not change providerID except from \"\" to valid"))
	}
	return errs
}
