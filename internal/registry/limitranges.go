package registry

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func limitRanges() Resource {
	return Resource{
		Kind:       gvk(core, "LimitRange"),
		Name:       "limitranges",
		Singular:   "limitrange",
		ShortNames: []string{"limits"},
		Namespaced: true,
		Strategy: Strategy{
			Default: func(obj runtime.Object) {
				lr := obj.(*corev1.LimitRange)
				for i := range lr.Spec.Limits {
					defaultLimitRangeItem(&lr.Spec.Limits[i])
				}
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateLimitRange(obj.(*corev1.LimitRange))
			},
			Columns: []metav1.TableColumnDefinition{
				nameColumn,
				{Name: "Created At", Type: "date", Description: ageColumn.Description},
			},
			Row: func(obj runtime.Object) []interface{} {
				lr := obj.(*corev1.LimitRange)
				return []interface{}{lr.Name, lr.CreationTimestamp.UTC().Format(time.RFC3339)}
			},
		},
	}
}

// defaultLimitRangeItem fills a Container limit's defaults as upstream
// does: default limit from max, default request from the default limit,
// then from min.
func defaultLimitRangeItem(l *corev1.LimitRangeItem) {
	if l.Type != corev1.LimitTypeContainer {
		return
	}
	if l.Default == nil {
		l.Default = corev1.ResourceList{}
	}
	if l.DefaultRequest == nil {
		l.DefaultRequest = corev1.ResourceList{}
	}
	fill := func(dst, src corev1.ResourceList) {
		for k, v := range src {
			if _, ok := dst[k]; !ok {
				dst[k] = v.DeepCopy()
			}
		}
	}
	fill(l.Default, l.Max)
	fill(l.DefaultRequest, l.Default)
	fill(l.DefaultRequest, l.Min)
}

func validateLimitRange(lr *corev1.LimitRange) field.ErrorList {
	var errs field.ErrorList
	types := sets.New[corev1.LimitType]()
	for i := range lr.Spec.Limits {
		l := &lr.Spec.Limits[i]
		ip := field.NewPath("spec", "limits").Index(i)
		errs = append(errs, oneOf(ip.Child("type"), string(l.Type), string(corev1.LimitTypePod),
			string(corev1.LimitTypeContainer), string(corev1.LimitTypePersistentVolumeClaim))...)
		if types.Has(l.Type) {
			errs = append(errs, field.Duplicate(ip.Child("type"), l.Type))
		}
		types.Insert(l.Type)

		keys := sets.New[corev1.ResourceName]()
		for _, f := range []struct {
			name string
			list corev1.ResourceList
		}{{"max", l.Max}, {"min", l.Min}, {"default", l.Default}, {"defaultRequest", l.DefaultRequest}, {"maxLimitRequestRatio", l.MaxLimitRequestRatio}} {
			for _, k := range sortedResourceNames(f.list) {
				keys.Insert(k)
				if q := f.list[k]; q.Sign() < 0 {
					errs = append(errs, field.Invalid(ip.Child(f.name).Key(string(k)), q.String(), "must be greater than or equal to 0"))
				}
			}
		}
		if l.Type == corev1.LimitTypePod {
			if len(l.Default) > 0 {
				errs = append(errs, field.Forbidden(ip.Child("default"), "may not be specified when `type` is 'Pod'"))
			}
			if len(l.DefaultRequest) > 0 {
				errs = append(errs, field.Forbidden(ip.Child("defaultRequest"), "may not be specified when `type` is 'Pod'"))
			}
		}
		if l.Type == corev1.LimitTypePersistentVolumeClaim {
			_, hasMin := l.Min[corev1.ResourceStorage]
			_, hasMax := l.Max[corev1.ResourceStorage]
			if !hasMin && !hasMax {
				errs = append(errs, field.Required(ip.Child("limits"), "either minimum or maximum storage value is required, but neither was provided"))
			}
		}
		for _, k := range sets.List(keys) {
			errs = append(errs, validateLimitOrder(l, k, ip)...)
		}
	}
	return errs
}

// validateLimitOrder checks min <= defaultRequest <= default <= max for one
// resource, and a max limit/request ratio of at least 1.
func validateLimitOrder(l *corev1.LimitRangeItem, k corev1.ResourceName, ip *field.Path) field.ErrorList {
	var errs field.ErrorList
	key := string(k)
	minQ, hasMin := l.Min[k]
	maxQ, hasMax := l.Max[k]
	def, hasDef := l.Default[k]
	req, hasReq := l.DefaultRequest[k]
	ratio, hasRatio := l.MaxLimitRequestRatio[k]
	check := func(cond bool, child string, value resource.Quantity, format string, a, b resource.Quantity) {
		if cond {
			errs = append(errs, field.Invalid(ip.Child(child).Key(key), value.String(), fmt.Sprintf(format, a.String(), b.String())))
		}
	}
	check(hasMin && hasMax && minQ.Cmp(maxQ) > 0, "min", minQ, "min value %s is greater than max value %s", minQ, maxQ)
	check(hasReq && hasMin && minQ.Cmp(req) > 0, "defaultRequest", req, "min value %s is greater than default request value %s", minQ, req)
	check(hasReq && hasMax && req.Cmp(maxQ) > 0, "defaultRequest", req, "default request value %s is greater than max value %s", req, maxQ)
	check(hasReq && hasDef && req.Cmp(def) > 0, "defaultRequest", req, "default request value %s is greater than default limit value %s", req, def)
	check(hasDef && hasMin && minQ.Cmp(def) > 0, "default", minQ, "min value %s is greater than default value %s", minQ, def)
	check(hasDef && hasMax && def.Cmp(maxQ) > 0, "default", maxQ, "default value %s is greater than max value %s", def, maxQ)
	if hasRatio && ratio.Cmp(*resource.NewQuantity(1, resource.DecimalSI)) < 0 {
		errs = append(errs, field.Invalid(ip.Child("maxLimitRequestRatio").Key(key), ratio.String(), fmt.Sprintf("ratio %s is less than 1", ratio.String())))
	}
	if hasRatio && hasMin && hasMax && minQ.Sign() > 0 {
		limit := float64(maxQ.MilliValue()) / float64(minQ.MilliValue())
		if float64(ratio.MilliValue())/1000 > limit {
			errs = append(errs, field.Invalid(ip.Child("maxLimitRequestRatio").Key(key), ratio.String(),
				fmt.Sprintf("ratio %s is greater than max/min = %f", ratio.String(), limit)))
		}
	}
	return errs
}
