package registry

import (
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The table kubectl prints for HorizontalPodAutoscalers, at either version.

var hpaColumns = func() []metav1.TableColumnDefinition {
	spec, status := autoscalingv2.HorizontalPodAutoscalerSpec{}.SwaggerDoc(), autoscalingv2.HorizontalPodAutoscalerStatus{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		nameColumn,
		column("Reference", "string", spec["scaleTargetRef"]),
		column("Targets", "string", spec["metrics"]),
		column("MinPods", "string", spec["minReplicas"]),
		column("MaxPods", "string", spec["maxReplicas"]),
		column("Replicas", "string", status["currentReplicas"]),
		ageColumn,
	}
}()

func hpaRow(h *autoscalingv2.HorizontalPodAutoscaler) []interface{} {
	minPods := "<unset>"
	if h.Spec.MinReplicas != nil {
		minPods = fmt.Sprintf("%d", *h.Spec.MinReplicas)
	}
	ref := h.Spec.ScaleTargetRef.Kind + "/" + h.Spec.ScaleTargetRef.Name
	return []interface{}{h.Name, ref, hpaTargets(h.Spec.Metrics, h.Status.CurrentMetrics), minPods,
		int64(h.Spec.MaxReplicas), int64(h.Status.CurrentReplicas), age(h.CreationTimestamp)}
}

// hpaTargets renders the Targets column: "cpu: 40%/80%" for each metric,
// with the current value from the status when known.
func hpaTargets(specs []autoscalingv2.MetricSpec, statuses []autoscalingv2.MetricStatus) string {
	var list []string
	for i, m := range specs {
		var st *autoscalingv2.MetricStatus
		if i < len(statuses) {
			st = &statuses[i]
		}
		list = append(list, hpaTarget(m, st))
	}
	return listWithMore(list, 2, ", ", "<none>")
}

func hpaTarget(m autoscalingv2.MetricSpec, st *autoscalingv2.MetricStatus) string {
	current := "<unknown>"
	switch {
	case m.Type == autoscalingv2.ExternalMetricSourceType && m.External != nil:
		return valueTarget(m.External.Target, st != nil && st.External != nil, func() autoscalingv2.MetricValueStatus { return st.External.Current })
	case m.Type == autoscalingv2.ObjectMetricSourceType && m.Object != nil:
		return valueTarget(m.Object.Target, st != nil && st.Object != nil, func() autoscalingv2.MetricValueStatus { return st.Object.Current })
	case m.Type == autoscalingv2.PodsMetricSourceType && m.Pods != nil:
		if st != nil && st.Pods != nil && st.Pods.Current.AverageValue != nil {
			current = st.Pods.Current.AverageValue.String()
		}
		return current + "/" + quantityString(m.Pods.Target.AverageValue)
	case m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil:
		var cur *autoscalingv2.MetricValueStatus
		if st != nil && st.Resource != nil {
			cur = &st.Resource.Current
		}
		return string(m.Resource.Name) + ": " + resourceTarget(m.Resource.Target, cur)
	case m.Type == autoscalingv2.ContainerResourceMetricSourceType && m.ContainerResource != nil:
		var cur *autoscalingv2.MetricValueStatus
		if st != nil && st.ContainerResource != nil {
			cur = &st.ContainerResource.Current
		}
		return string(m.ContainerResource.Name) + ": " + resourceTarget(m.ContainerResource.Target, cur)
	}
	return "<unknown type>"
}

// valueTarget renders an object or external metric: "current/target", or
// "current/target (avg)" for per-pod targets.
func valueTarget(t autoscalingv2.MetricTarget, known bool, cur func() autoscalingv2.MetricValueStatus) string {
	current := "<unknown>"
	if t.AverageValue != nil {
		if known && cur().AverageValue != nil {
			current = cur().AverageValue.String()
		}
		return current + "/" + t.AverageValue.String() + " (avg)"
	}
	if known {
		current = quantityString(cur().Value)
	}
	return current + "/" + quantityString(t.Value)
}

func resourceTarget(t autoscalingv2.MetricTarget, cur *autoscalingv2.MetricValueStatus) string {
	current := "<unknown>"
	if t.AverageValue != nil {
		if cur != nil && cur.AverageValue != nil {
			current = cur.AverageValue.String()
		}
		return current + "/" + t.AverageValue.String()
	}
	if cur != nil && cur.AverageUtilization != nil {
		current = fmt.Sprintf("%d%%", *cur.AverageUtilization)
	}
	target := "<auto>"
	if t.AverageUtilization != nil {
		target = fmt.Sprintf("%d%%", *t.AverageUtilization)
	}
	return current + "/" + target
}

func quantityString(q *resource.Quantity) string {
	if q == nil {
		return "0"
	}
	return q.String()
}
