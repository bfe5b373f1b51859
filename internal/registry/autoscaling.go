package registry

import (
	"fmt"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// Upstream's bounds on HPA behaviour.
const (
	maxHPAPeriodSeconds       = 1800
	maxHPAStabilizationWindow = 3600
	defaultHPACPUUtilization  = 80
)

// HorizontalPodAutoscalers are served at autoscaling/v2, their storage
// version, and at autoscaling/v1 (see autoscaling_v1.go).
func horizontalPodAutoscalersV2() Resource {
	return Resource{
		Kind: gvk(autoscalingv2.SchemeGroupVersion, "HorizontalPodAutoscaler"), Name: "horizontalpodautoscalers",
		Singular: "horizontalpodautoscaler", ShortNames: []string{"hpa"}, Categories: []string{"all"},
		Namespaced: true, Subresources: []string{"status"}, StoragePrefix: "horizontalpodautoscalers",
		Strategy: Strategy{
			HasStatus: true, Generation: true,
			Default: func(obj runtime.Object) { defaultHPA(obj.(*autoscalingv2.HorizontalPodAutoscaler)) },
			PrepareForCreate: func(obj runtime.Object) {
				obj.(*autoscalingv2.HorizontalPodAutoscaler).Status = autoscalingv2.HorizontalPodAutoscalerStatus{}
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateHPASpec(&obj.(*autoscalingv2.HorizontalPodAutoscaler).Spec, field.NewPath("spec"))
			},
			ValidateStatusUpdate: func(obj, _ runtime.Object) field.ErrorList {
				return validateHPAStatus(&obj.(*autoscalingv2.HorizontalPodAutoscaler).Status)
			},
			Columns: hpaColumns,
			Row:     func(obj runtime.Object) []interface{} { return hpaRow(obj.(*autoscalingv2.HorizontalPodAutoscaler)) },
		},
	}
}

// defaultHPA applies upstream's autoscaling/v2 defaults: one minimum
// replica, a CPU target of 80% when no metric is given, and, when a behavior
// is given, the default scaling rules for whatever it leaves out.
func defaultHPA(h *autoscalingv2.HorizontalPodAutoscaler) {
	if h.Spec.MinReplicas == nil {
		h.Spec.MinReplicas = ptr.To[int32](1)
	}
	if len(h.Spec.Metrics) == 0 {
		h.Spec.Metrics = []autoscalingv2.MetricSpec{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{
				Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](defaultHPACPUUtilization)}},
		}}
	}
	if b := h.Spec.Behavior; b != nil {
		up := []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		}
		down := []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}}
		// Scale-down stabilization stays unset: the controller's default
		// window (300s) applies.
		b.ScaleUp = defaultScalingRules(b.ScaleUp, up, ptr.To[int32](0))
		b.ScaleDown = defaultScalingRules(b.ScaleDown, down, nil)
	}
}

func defaultScalingRules(r *autoscalingv2.HPAScalingRules, policies []autoscalingv2.HPAScalingPolicy, window *int32) *autoscalingv2.HPAScalingRules {
	if r == nil {
		r = &autoscalingv2.HPAScalingRules{}
	}
	if r.StabilizationWindowSeconds == nil {
		r.StabilizationWindowSeconds = window
	}
	if r.SelectPolicy == nil {
		r.SelectPolicy = ptr.To(autoscalingv2.MaxChangePolicySelect)
	}
	if len(r.Policies) == 0 {
		r.Policies = policies
	}
	return r
}

func validateHPASpec(s *autoscalingv2.HorizontalPodAutoscalerSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.MinReplicas != nil && *s.MinReplicas < 1 {
		errs = append(errs, field.Invalid(p.Child("minReplicas"), *s.MinReplicas, "must be greater than or equal to 1"))
	}
	if s.MaxReplicas < 1 {
		errs = append(errs, field.Invalid(p.Child("maxReplicas"), s.MaxReplicas, "must be greater than 0"))
	}
	if s.MinReplicas != nil && s.MaxReplicas < *s.MinReplicas {
		errs = append(errs, field.Invalid(p.Child("maxReplicas"), s.MaxReplicas, "must be greater than or equal to `minReplicas`"))
	}
	ref := s.ScaleTargetRef
	errs = append(errs, validateHPAReference(ref.Kind, ref.Name, p.Child("scaleTargetRef"))...)
	for i := range s.Metrics {
		errs = append(errs, validateMetricSpec(&s.Metrics[i], p.Child("metrics").Index(i))...)
	}
	if b := s.Behavior; b != nil {
		errs = append(errs, validateScalingRules(b.ScaleUp, p.Child("behavior", "scaleUp"))...)
		errs = append(errs, validateScalingRules(b.ScaleDown, p.Child("behavior", "scaleDown"))...)
	}
	return errs
}

func validateHPAReference(kind, name string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if kind == "" {
		errs = append(errs, field.Required(p.Child("kind"), ""))
	} else {
		errs = append(errs, invalidEach(p.Child("kind"), kind, path.IsValidPathSegmentName(kind))...)
	}
	if name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else {
		errs = append(errs, invalidEach(p.Child("name"), name, path.IsValidPathSegmentName(name))...)
	}
	return errs
}

func validateMetricSpec(m *autoscalingv2.MetricSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	sources := map[autoscalingv2.MetricSourceType]bool{
		autoscalingv2.ObjectMetricSourceType:            m.Object != nil,
		autoscalingv2.PodsMetricSourceType:              m.Pods != nil,
		autoscalingv2.ResourceMetricSourceType:          m.Resource != nil,
		autoscalingv2.ContainerResourceMetricSourceType: m.ContainerResource != nil,
		autoscalingv2.ExternalMetricSourceType:          m.External != nil,
	}
	set, ok := sources[m.Type]
	switch {
	case m.Type == "":
		errs = append(errs, field.Required(p.Child("type"), "must specify a metric source type"))
	case !ok:
		errs = append(errs, field.NotSupported(p.Child("type"), m.Type, []string{"ContainerResource", "External", "Object", "Pods", "Resource"}))
	case !set:
		errs = append(errs, field.Required(p.Child(sourceField(m.Type)), "must populate information for the given metric source"))
	}
	for _, t := range []autoscalingv2.MetricSourceType{autoscalingv2.ObjectMetricSourceType, autoscalingv2.PodsMetricSourceType,
		autoscalingv2.ResourceMetricSourceType, autoscalingv2.ContainerResourceMetricSourceType, autoscalingv2.ExternalMetricSourceType} {
		if sources[t] && t != m.Type && ok {
			errs = append(errs, field.Forbidden(p.Child(sourceField(t)), "must populate the given metric source only"))
		}
	}
	switch {
	case m.Type == autoscalingv2.ObjectMetricSourceType && m.Object != nil:
		sp := p.Child("object")
		d := m.Object.DescribedObject
		errs = append(errs, validateHPAReference(d.Kind, d.Name, sp.Child("describedObject"))...)
		errs = append(errs, validateMetricIdentifier(m.Object.Metric, sp.Child("metric"))...)
		errs = append(errs, validateMetricTarget(m.Object.Target, sp.Child("target"))...)
		if m.Object.Target.Value == nil && m.Object.Target.AverageValue == nil {
			errs = append(errs, field.Required(sp.Child("target", "averageValue"), "must set either a target value or averageValue"))
		}
	case m.Type == autoscalingv2.PodsMetricSourceType && m.Pods != nil:
		sp := p.Child("pods")
		errs = append(errs, validateMetricIdentifier(m.Pods.Metric, sp.Child("metric"))...)
		errs = append(errs, validateMetricTarget(m.Pods.Target, sp.Child("target"))...)
		if m.Pods.Target.AverageValue == nil {
			errs = append(errs, field.Required(sp.Child("target", "averageValue"), "must specify a positive target averageValue"))
		}
	case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil:
		errs = append(errs, validateResourceMetric(m.Resource.Name, m.Resource.Target, p.Child("resource"))...)
	case m.Type == autoscalingv2.ContainerResourceMetricSourceType && m.ContainerResource != nil:
		sp := p.Child("containerResource")
		errs = append(errs, validateResourceMetric(m.ContainerResource.Name, m.ContainerResource.Target, sp)...)
		if c := m.ContainerResource.Container; c == "" {
			errs = append(errs, field.Required(sp.Child("container"), "must specify a container"))
		} else {
			errs = append(errs, invalidEach(sp.Child("container"), c, validation.IsDNS1123Label(c))...)
		}
	case m.Type == autoscalingv2.ExternalMetricSourceType && m.External != nil:
		sp, t := p.Child("external"), m.External.Target
		errs = append(errs, validateMetricIdentifier(m.External.Metric, sp.Child("metric"))...)
		errs = append(errs, validateMetricTarget(t, sp.Child("target"))...)
		if t.Value == nil && t.AverageValue == nil {
			errs = append(errs, field.Required(sp.Child("target", "averageValue"), "must set either a target value for metric or a per-pod target"))
		}
		if t.Value != nil && t.AverageValue != nil {
			errs = append(errs, field.Forbidden(sp.Child("target", "value"), "may not set both a target value for metric and a per-pod target"))
		}
	}
	return errs
}

// sourceField is the field of a MetricSpec or MetricStatus holding a source
// of type t ("containerResource" for ContainerResource).
func sourceField(t autoscalingv2.MetricSourceType) string {
	s := string(t)
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func validateResourceMetric(name corev1.ResourceName, t autoscalingv2.MetricTarget, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(p.Child("name"), "must specify a resource name"))
	} else {
		errs = append(errs, invalidEach(p.Child("name"), name, validation.IsQualifiedName(string(name)))...)
	}
	errs = append(errs, validateMetricTarget(t, p.Child("target"))...)
	if t.AverageUtilization == nil && t.AverageValue == nil {
		errs = append(errs, field.Required(p.Child("target", "averageUtilization"), "must set either a target raw value or a target utilization"))
	}
	if t.AverageUtilization != nil && t.AverageValue != nil {
		errs = append(errs, field.Forbidden(p.Child("target", "averageValue"), "may not set both a target raw value and a target utilization"))
	}
	return errs
}

func validateMetricIdentifier(id autoscalingv2.MetricIdentifier, p *field.Path) field.ErrorList {
	if id.Name == "" {
		return field.ErrorList{field.Required(p.Child("name"), "must specify a metric name")}
	}
	return invalidEach(p.Child("name"), id.Name, path.IsValidPathSegmentName(id.Name))
}

func validateMetricTarget(t autoscalingv2.MetricTarget, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if t.Type == "" {
		errs = append(errs, field.Required(p.Child("type"), "must specify a metric target type"))
	}
	if t.Type != autoscalingv2.UtilizationMetricType && t.Type != autoscalingv2.ValueMetricType && t.Type != autoscalingv2.AverageValueMetricType {
		errs = append(errs, field.Invalid(p.Child("type"), t.Type, "must be either Utilization, Value, or AverageValue"))
	}
	if t.Value != nil && t.Value.Sign() != 1 {
		errs = append(errs, field.Invalid(p.Child("value"), t.Value, "must be positive"))
	}
	if t.AverageValue != nil && t.AverageValue.Sign() != 1 {
		errs = append(errs, field.Invalid(p.Child("averageValue"), t.AverageValue, "must be positive"))
	}
	if t.AverageUtilization != nil && *t.AverageUtilization < 1 {
		errs = append(errs, field.Invalid(p.Child("averageUtilization"), *t.AverageUtilization, "must be greater than 0"))
	}
	return errs
}

func validateScalingRules(r *autoscalingv2.HPAScalingRules, p *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	var errs field.ErrorList
	if w := r.StabilizationWindowSeconds; w != nil {
		if *w < 0 {
			errs = append(errs, field.Invalid(p.Child("stabilizationWindowSeconds"), *w, "must be greater than or equal to zero"))
		} else if *w > maxHPAStabilizationWindow {
			errs = append(errs, field.Invalid(p.Child("stabilizationWindowSeconds"), *w, fmt.Sprintf("must be less than or equal to %v", maxHPAStabilizationWindow)))
		}
	}
	if r.SelectPolicy != nil {
		errs = append(errs, oneOf(p.Child("selectPolicy"), string(*r.SelectPolicy), string(autoscalingv2.DisabledPolicySelect),
			string(autoscalingv2.MaxChangePolicySelect), string(autoscalingv2.MinChangePolicySelect))...)
	}
	pp := p.Child("policies")
	if len(r.Policies) == 0 {
		errs = append(errs, field.Required(pp, "must specify at least one Policy"))
	}
	for i, pol := range r.Policies {
		ip := pp.Index(i)
		if pol.Type != autoscalingv2.PodsScalingPolicy && pol.Type != autoscalingv2.PercentScalingPolicy {
			errs = append(errs, field.NotSupported(ip.Child("type"), pol.Type, []string{"Percent", "Pods"}))
		}
		if pol.Value <= 0 {
			errs = append(errs, field.Invalid(ip.Child("value"), pol.Value, mustBePositive))
		}
		if pol.PeriodSeconds <= 0 {
			errs = append(errs, field.Invalid(ip.Child("periodSeconds"), pol.PeriodSeconds, mustBePositive))
		} else if pol.PeriodSeconds > maxHPAPeriodSeconds {
			errs = append(errs, field.Invalid(ip.Child("periodSeconds"), pol.PeriodSeconds, fmt.Sprintf("must be less than or equal to %v", maxHPAPeriodSeconds)))
		}
	}
	if r.Tolerance != nil && r.Tolerance.Sign() < 0 {
		errs = append(errs, field.Invalid(p.Child("tolerance"), r.Tolerance, "must be greater than or equal to zero"))
	}
	return errs
}

func validateHPAStatus(s *autoscalingv2.HorizontalPodAutoscalerStatus) field.ErrorList {
	p := field.NewPath("status")
	errs := apivalidation.ValidateNonnegativeField(int64(s.CurrentReplicas), p.Child("currentReplicas"))
	return append(errs, apivalidation.ValidateNonnegativeField(int64(s.DesiredReplicas), p.Child("desiredReplicas"))...)
}
