package registry

import (
	"encoding/json"
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// autoscaling/v1 knows only a CPU utilization target. Like upstream, skiff
// keeps what v1 cannot express in annotations of the v1 object, so that a
// v1 client that reads, edits and writes back an HPA loses nothing: the
// other metrics (in the v1 MetricSpec shape), the current metrics and the
// conditions of the status, and the scaling behavior (in the v2 shape).
const (
	hpaMetricsAnnotation        = "autoscaling.alpha.kubernetes.io/metrics"
	hpaCurrentMetricsAnnotation = "autoscaling.alpha.kubernetes.io/current-metrics"
	hpaConditionsAnnotation     = "autoscaling.alpha.kubernetes.io/conditions"
	hpaBehaviorAnnotation       = "autoscaling.alpha.kubernetes.io/behavior"
)

var hpaRoundTripAnnotations = []string{hpaMetricsAnnotation, hpaCurrentMetricsAnnotation, hpaConditionsAnnotation, hpaBehaviorAnnotation}

// horizontalPodAutoscalersV1 serves HPAs at autoscaling/v1, stored as
// autoscaling/v2 objects. Validation runs on the converted v2 object, so its
// errors name v2 fields, as upstream's do.
func horizontalPodAutoscalersV1() Resource {
	stored := gvk(autoscalingv2.SchemeGroupVersion, "HorizontalPodAutoscaler")
	r := horizontalPodAutoscalersV2()
	r.Kind = gvk(autoscalingv1.SchemeGroupVersion, "HorizontalPodAutoscaler")
	r.StorageKind = &stored
	r.ToStorage = func(obj runtime.Object) (runtime.Object, error) {
		h, ok := obj.(*autoscalingv1.HorizontalPodAutoscaler)
		if !ok {
			return nil, fmt.Errorf("registry: expected an autoscaling/v1 HorizontalPodAutoscaler, got %T", obj)
		}
		out := hpaToV2(h)
		defaultHPA(out)
		return out, nil
	}
	r.FromStorage = func(obj runtime.Object) (runtime.Object, error) {
		h, ok := obj.(*autoscalingv2.HorizontalPodAutoscaler)
		if !ok {
			return nil, fmt.Errorf("registry: expected an autoscaling/v2 HorizontalPodAutoscaler, got %T", obj)
		}
		return hpaFromV2(h)
	}
	r.Strategy = Strategy{
		HasStatus: true, Generation: true,
		Default: func(obj runtime.Object) {
			h := obj.(*autoscalingv1.HorizontalPodAutoscaler)
			if h.Spec.MinReplicas == nil {
				h.Spec.MinReplicas = ptr.To[int32](1)
			}
		},
		PrepareForCreate: func(obj runtime.Object) {
			h := obj.(*autoscalingv1.HorizontalPodAutoscaler)
			h.Status = autoscalingv1.HorizontalPodAutoscalerStatus{}
			delete(h.Annotations, hpaCurrentMetricsAnnotation)
			delete(h.Annotations, hpaConditionsAnnotation)
		},
		PrepareForUpdate: func(obj, old runtime.Object) {
			// The status annotations belong to the status: an update of the
			// main resource keeps the stored ones, as it keeps .status.
			n, o := obj.(*autoscalingv1.HorizontalPodAutoscaler), old.(*autoscalingv1.HorizontalPodAutoscaler)
			for _, k := range []string{hpaCurrentMetricsAnnotation, hpaConditionsAnnotation} {
				v, ok := o.Annotations[k]
				switch {
				case ok && n.Annotations == nil:
					n.Annotations = map[string]string{k: v}
				case ok:
					n.Annotations[k] = v
				default:
					delete(n.Annotations, k)
				}
			}
		},
		Validate: func(obj runtime.Object) field.ErrorList {
			h := hpaToV2(obj.(*autoscalingv1.HorizontalPodAutoscaler))
			defaultHPA(h)
			return validateHPASpec(&h.Spec, field.NewPath("spec"))
		},
		ValidateStatusUpdate: func(obj, _ runtime.Object) field.ErrorList {
			return validateHPAStatus(&hpaToV2(obj.(*autoscalingv1.HorizontalPodAutoscaler)).Status)
		},
		Columns: hpaColumns,
		Row: func(obj runtime.Object) []interface{} {
			return hpaRow(hpaToV2(obj.(*autoscalingv1.HorizontalPodAutoscaler)))
		},
	}
	return r
}

// hpaToV2 converts a v1 HPA to v2, restoring what the round-trip annotations
// hold. Annotations that do not decode are ignored, as upstream does.
func hpaToV2(in *autoscalingv1.HorizontalPodAutoscaler) *autoscalingv2.HorizontalPodAutoscaler {
	out := &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: autoscalingv2.SchemeGroupVersion.String(), Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: *in.ObjectMeta.DeepCopy(),
	}
	dropRoundTripAnnotations(&out.ObjectMeta)
	ref := in.Spec.ScaleTargetRef
	out.Spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{Kind: ref.Kind, Name: ref.Name, APIVersion: ref.APIVersion}
	out.Spec.MinReplicas = copyInt32(in.Spec.MinReplicas)
	out.Spec.MaxReplicas = in.Spec.MaxReplicas

	var others []autoscalingv1.MetricSpec
	if decodeAnnotation(in.Annotations, hpaMetricsAnnotation, &others) {
		for _, m := range others {
			out.Spec.Metrics = append(out.Spec.Metrics, metricSpecToV2(m))
		}
	}
	if in.Spec.TargetCPUUtilizationPercentage != nil {
		out.Spec.Metrics = append(out.Spec.Metrics, autoscalingv2.MetricSpec{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{
				Type: autoscalingv2.UtilizationMetricType, AverageUtilization: copyInt32(in.Spec.TargetCPUUtilizationPercentage)}},
		})
	}
	var behavior autoscalingv2.HorizontalPodAutoscalerBehavior
	if decodeAnnotation(in.Annotations, hpaBehaviorAnnotation, &behavior) && (behavior.ScaleUp != nil || behavior.ScaleDown != nil) {
		out.Spec.Behavior = &behavior
	}

	s := &in.Status
	out.Status = autoscalingv2.HorizontalPodAutoscalerStatus{ObservedGeneration: s.ObservedGeneration,
		LastScaleTime: s.LastScaleTime, CurrentReplicas: s.CurrentReplicas, DesiredReplicas: s.DesiredReplicas}
	if s.CurrentCPUUtilizationPercentage != nil {
		out.Status.CurrentMetrics = []autoscalingv2.MetricStatus{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU,
				Current: autoscalingv2.MetricValueStatus{AverageUtilization: copyInt32(s.CurrentCPUUtilizationPercentage)}},
		}}
	}
	var current []autoscalingv1.MetricStatus
	if decodeAnnotation(in.Annotations, hpaCurrentMetricsAnnotation, &current) {
		out.Status.CurrentMetrics = nil
		for _, m := range current {
			out.Status.CurrentMetrics = append(out.Status.CurrentMetrics, metricStatusToV2(m))
		}
	}
	var conditions []autoscalingv1.HorizontalPodAutoscalerCondition
	if decodeAnnotation(in.Annotations, hpaConditionsAnnotation, &conditions) {
		for _, c := range conditions {
			out.Status.Conditions = append(out.Status.Conditions, autoscalingv2.HorizontalPodAutoscalerCondition{
				Type: autoscalingv2.HorizontalPodAutoscalerConditionType(c.Type), Status: c.Status,
				LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message})
		}
	}
	return out
}

// hpaFromV2 converts a stored v2 HPA to v1: the first CPU utilization
// target becomes targetCPUUtilizationPercentage, the rest goes to the
// round-trip annotations.
func hpaFromV2(in *autoscalingv2.HorizontalPodAutoscaler) (*autoscalingv1.HorizontalPodAutoscaler, error) {
	out := &autoscalingv1.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: autoscalingv1.SchemeGroupVersion.String(), Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: *in.ObjectMeta.DeepCopy(),
	}
	dropRoundTripAnnotations(&out.ObjectMeta)
	ref := in.Spec.ScaleTargetRef
	out.Spec.ScaleTargetRef = autoscalingv1.CrossVersionObjectReference{Kind: ref.Kind, Name: ref.Name, APIVersion: ref.APIVersion}
	out.Spec.MinReplicas = copyInt32(in.Spec.MinReplicas)
	out.Spec.MaxReplicas = in.Spec.MaxReplicas

	var others []autoscalingv1.MetricSpec
	for _, m := range in.Spec.Metrics {
		if isCPUUtilization(m) {
			if out.Spec.TargetCPUUtilizationPercentage == nil {
				out.Spec.TargetCPUUtilizationPercentage = copyInt32(m.Resource.Target.AverageUtilization)
			}
			continue
		}
		others = append(others, metricSpecFromV2(m))
	}

	s := &in.Status
	out.Status = autoscalingv1.HorizontalPodAutoscalerStatus{ObservedGeneration: s.ObservedGeneration,
		LastScaleTime: s.LastScaleTime, CurrentReplicas: s.CurrentReplicas, DesiredReplicas: s.DesiredReplicas}
	var current []autoscalingv1.MetricStatus
	for _, m := range s.CurrentMetrics {
		if m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU &&
			m.Resource.Current.AverageUtilization != nil {
			out.Status.CurrentCPUUtilizationPercentage = copyInt32(m.Resource.Current.AverageUtilization)
		}
		current = append(current, metricStatusFromV2(m))
	}
	var conditions []autoscalingv1.HorizontalPodAutoscalerCondition
	for _, c := range s.Conditions {
		conditions = append(conditions, autoscalingv1.HorizontalPodAutoscalerCondition{
			Type: autoscalingv1.HorizontalPodAutoscalerConditionType(c.Type), Status: c.Status,
			LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message})
	}

	for _, a := range []struct {
		key   string
		value interface{}
		set   bool
	}{
		{hpaMetricsAnnotation, others, len(others) > 0},
		{hpaCurrentMetricsAnnotation, current, len(current) > 0},
		{hpaBehaviorAnnotation, in.Spec.Behavior, in.Spec.Behavior != nil},
		{hpaConditionsAnnotation, conditions, len(conditions) > 0},
	} {
		if !a.set {
			continue
		}
		enc, err := json.Marshal(a.value)
		if err != nil {
			return nil, fmt.Errorf("registry: encoding %s: %w", a.key, err)
		}
		if out.Annotations == nil {
			out.Annotations = map[string]string{}
		}
		out.Annotations[a.key] = string(enc)
	}
	return out, nil
}

func isCPUUtilization(m autoscalingv2.MetricSpec) bool {
	return m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil &&
		m.Resource.Name == corev1.ResourceCPU && m.Resource.Target.AverageUtilization != nil
}

func dropRoundTripAnnotations(m *metav1.ObjectMeta) {
	for _, k := range hpaRoundTripAnnotations {
		delete(m.Annotations, k)
	}
	if len(m.Annotations) == 0 {
		m.Annotations = nil
	}
}

// decodeAnnotation decodes the JSON in annotation key into v and tells
// whether it was there and decoded.
func decodeAnnotation(annotations map[string]string, key string, v interface{}) bool {
	enc, ok := annotations[key]
	return ok && json.Unmarshal([]byte(enc), v) == nil
}

func copyInt32(p *int32) *int32 {
	if p == nil {
		return nil
	}
	return ptr.To(*p)
}
