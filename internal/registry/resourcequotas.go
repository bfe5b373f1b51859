package registry

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func resourceQuotas() Resource {
	return Resource{
		Kind:         gvk(core, "ResourceQuota"),
		Name:         "resourcequotas",
		Singular:     "resourcequota",
		ShortNames:   []string{"quota"},
		Namespaced:   true,
		Subresources: []string{"status"},
		Strategy: Strategy{
			HasStatus: true,
			PrepareForCreate: func(obj runtime.Object) {
				obj.(*corev1.ResourceQuota).Status = corev1.ResourceQuotaStatus{}
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateQuotaSpec(&obj.(*corev1.ResourceQuota).Spec)
			},
			ValidateStatusUpdate: func(obj, old runtime.Object) field.ErrorList {
				st := &obj.(*corev1.ResourceQuota).Status
				p := field.NewPath("status")
				return append(validateQuotaResources(st.Hard, p.Child("hard")), validateQuotaResources(st.Used, p.Child("used"))...)
			},
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				ageColumn,
				column("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."),
				column("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."),
			},
			Row: func(obj runtime.Object) []interface{} { return quotaRow(obj.(*corev1.ResourceQuota)) },
		},
	}
}

// quotaRow lists "name: used/hard" for each resource, limits.* ones in the
// Limit column and all others in the Request column.
func quotaRow(q *corev1.ResourceQuota) []interface{} {
	names := make([]string, 0, len(q.Status.Hard))
	for n := range q.Status.Hard {
		names = append(names, string(n))
	}
	sort.Strings(names)
	var requests, limits []string
	for _, n := range names {
		used, hard := q.Status.Used[corev1.ResourceName(n)], q.Status.Hard[corev1.ResourceName(n)]
		cell := fmt.Sprintf("%s: %s/%s", n, used.String(), hard.String())
		if strings.HasPrefix(n, "limits.") {
			limits = append(limits, cell)
		} else {
			requests = append(requests, cell)
		}
	}
	return []interface{}{q.Name, age(q.CreationTimestamp), strings.Join(requests, ", "), strings.Join(limits, ", ")}
}

// standardQuotaResources are the quota names without a domain prefix.
var standardQuotaResources = sets.New("cpu", "memory", "ephemeral-storage",
	"requests.cpu", "requests.memory", "requests.storage", "requests.ephemeral-storage",
	"limits.cpu", "limits.memory", "limits.ephemeral-storage",
	"pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
	"persistentvolumeclaims", "services.nodeports", "services.loadbalancers")

// integerQuotaResources count objects and take whole numbers only.
var integerQuotaResources = sets.New("pods", "services", "replicationcontrollers", "resourcequotas",
	"secrets", "configmaps", "persistentvolumeclaims", "services.nodeports", "services.loadbalancers")

func validateQuotaResources(list corev1.ResourceList, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range sortedResourceNames(list) {
		q := list[k]
		n, kp := string(k), p.Key(string(k))
		if strings.Contains(n, "/") {
			errs = append(errs, invalidEach(kp, n, validation.IsQualifiedName(n))...)
		} else if !standardQuotaResources.Has(n) && !strings.HasPrefix(n, corev1.ResourceHugePagesPrefix) &&
			!strings.HasPrefix(n, corev1.ResourceRequestsHugePagesPrefix) {
			errs = append(errs, field.Invalid(kp, n, "must be a standard resource for quota"))
		}
		if q.Sign() < 0 {
			errs = append(errs, field.Invalid(kp, q.String(), "must be greater than or equal to 0"))
		}
		if (integerQuotaResources.Has(n) || strings.HasPrefix(n, "count/")) && q.MilliValue()%1000 != 0 {
			errs = append(errs, field.Invalid(kp, q.String(), "must be an integer"))
		}
	}
	return errs
}

var quotaScopes = []string{string(corev1.ResourceQuotaScopeTerminating), string(corev1.ResourceQuotaScopeNotTerminating),
	string(corev1.ResourceQuotaScopeBestEffort), string(corev1.ResourceQuotaScopeNotBestEffort),
	string(corev1.ResourceQuotaScopePriorityClass), string(corev1.ResourceQuotaScopeCrossNamespacePodAffinity),
	string(corev1.ResourceQuotaScopeVolumeAttributesClass)}

func validateQuotaSpec(s *corev1.ResourceQuotaSpec) field.ErrorList {
	sp := field.NewPath("spec")
	errs := validateQuotaResources(s.Hard, sp.Child("hard"))
	for i, scope := range s.Scopes {
		errs = append(errs, oneOf(sp.Child("scopes").Index(i), string(scope), quotaScopes...)...)
	}
	if s.ScopeSelector != nil {
		for i, r := range s.ScopeSelector.MatchExpressions {
			rp := sp.Child("scopeSelector", "matchExpressions").Index(i)
			errs = append(errs, oneOf(rp.Child("scopeName"), string(r.ScopeName), quotaScopes...)...)
			errs = append(errs, oneOf(rp.Child("operator"), string(r.Operator), string(corev1.ScopeSelectorOpIn),
				string(corev1.ScopeSelectorOpNotIn), string(corev1.ScopeSelectorOpExists), string(corev1.ScopeSelectorOpDoesNotExist))...)
		}
	}
	return errs
}
