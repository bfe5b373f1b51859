package registry

import (
	"encoding/json"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func mkHPA(mods ...func(*autoscalingv2.HorizontalPodAutoscaler)) *autoscalingv2.HorizontalPodAutoscaler {
	h := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MaxReplicas:    10,
		},
	}
	for _, m := range mods {
		m(h)
	}
	return h
}

func cpuMetric(pct int32) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To(pct)}}}
}

func TestHPADefaults(t *testing.T) {
	r := groupResource(t, "autoscaling/v2", "horizontalpodautoscalers")
	h := mkHPA()
	r.Strategy.Default(h)
	if *h.Spec.MinReplicas != 1 || len(h.Spec.Metrics) != 1 || !apiequality.Semantic.DeepEqual(h.Spec.Metrics[0], cpuMetric(80)) || h.Spec.Behavior != nil {
		t.Errorf("defaults: %+v", h.Spec)
	}

	h = mkHPA(func(h *autoscalingv2.HorizontalPodAutoscaler) {
		h.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](60)}}
	})
	r.Strategy.Default(h)
	up, down := h.Spec.Behavior.ScaleUp, h.Spec.Behavior.ScaleDown
	wantUp := &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](0), SelectPolicy: ptr.To(autoscalingv2.MaxChangePolicySelect),
		Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}}}
	wantDown := &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](60), SelectPolicy: ptr.To(autoscalingv2.MaxChangePolicySelect),
		Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}}}
	if !apiequality.Semantic.DeepEqual(up, wantUp) || !apiequality.Semantic.DeepEqual(down, wantDown) {
		t.Errorf("behavior defaults: up %+v down %+v", up, down)
	}
}

func TestHPAValidation(t *testing.T) {
	r := groupResource(t, "autoscaling/v2", "horizontalpodautoscalers")
	for name, c := range map[string]struct {
		mod  func(*autoscalingv2.HorizontalPodAutoscaler)
		want []string
	}{
		"valid":     {func(*autoscalingv2.HorizontalPodAutoscaler) {}, nil},
		"max 0":     {func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MaxReplicas = 0 }, []string{"spec.maxReplicas: Invalid value", "spec.maxReplicas: Invalid value"}},
		"min 0":     {func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MinReplicas = ptr.To[int32](0) }, []string{"spec.minReplicas: Invalid value"}},
		"min > max": {func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MinReplicas = ptr.To[int32](11) }, []string{"spec.maxReplicas: Invalid value"}},
		"no target": {func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.ScaleTargetRef.Name = "" }, []string{"spec.scaleTargetRef.name: Required value"}},
		"no type":   {func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.Metrics = []autoscalingv2.MetricSpec{{}} }, []string{"spec.metrics[0].type: Required value"}},
		"zero target": {func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Metrics = []autoscalingv2.MetricSpec{cpuMetric(0)}
		}, []string{"spec.metrics[0].resource.target.averageUtilization: Invalid value"}},
		"two sources": {func(h *autoscalingv2.HorizontalPodAutoscaler) {
			m := cpuMetric(50)
			m.Pods = &autoscalingv2.PodsMetricSource{}
			h.Spec.Metrics = []autoscalingv2.MetricSpec{m}
		}, []string{"spec.metrics[0].pods: Forbidden"}},
		"pods without value": {func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
				Metric: autoscalingv2.MetricIdentifier{Name: "qps"}, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType}}}}
		}, []string{"spec.metrics[0].pods.target.averageValue: Required value"}},
		"long period": {func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{
				Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 1, PeriodSeconds: 3600}}}}
		}, []string{"spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value"}},
	} {
		checkErrs(t, name, strategyCreate(r, mkHPA(c.mod)), c.want...)
	}
}

// fullHPA uses every part of a v2 HPA that v1 cannot express.
func fullHPA() *autoscalingv2.HorizontalPodAutoscaler {
	q := resource.MustParse("200Mi")
	now := metav1.NewTime(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
	return mkHPA(func(h *autoscalingv2.HorizontalPodAutoscaler) {
		h.Annotations = map[string]string{"team": "web"}
		h.Spec.MinReplicas = ptr.To[int32](2)
		h.Spec.Metrics = []autoscalingv2.MetricSpec{
			{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceMemory,
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &q}}},
			{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: "qps"},
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr.To(resource.MustParse("10"))}}},
			{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: "queue"},
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: ptr.To(resource.MustParse("30"))}}},
			cpuMetric(60),
		}
		h.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{
			StabilizationWindowSeconds: ptr.To[int32](30), SelectPolicy: ptr.To(autoscalingv2.MinChangePolicySelect),
			Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 1, PeriodSeconds: 60}}}}
		h.Status = autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 3, DesiredReplicas: 4, LastScaleTime: &now,
			CurrentMetrics: []autoscalingv2.MetricStatus{
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceMemory,
					Current: autoscalingv2.MetricValueStatus{AverageValue: &q}}},
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU,
					Current: autoscalingv2.MetricValueStatus{AverageValue: ptr.To(resource.MustParse("120m")), AverageUtilization: ptr.To[int32](40)}}},
			},
			Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue,
				Reason: "ReadyForNewScale", LastTransitionTime: now}},
		}
	})
}

func TestHPAConversionV2ToV1AndBack(t *testing.T) {
	r := groupResource(t, "autoscaling/v1", "horizontalpodautoscalers")
	in := fullHPA()
	defaultHPA(in) // as stored
	v1obj, err := r.FromStorage(in.DeepCopy())
	if err != nil {
		t.Fatal(err)
	}
	v1 := v1obj.(*autoscalingv1.HorizontalPodAutoscaler)
	if v1.APIVersion != "autoscaling/v1" || ptr.Deref(v1.Spec.TargetCPUUtilizationPercentage, 0) != 60 ||
		ptr.Deref(v1.Status.CurrentCPUUtilizationPercentage, 0) != 40 || v1.Annotations["team"] != "web" {
		t.Errorf("v1 = %+v", v1)
	}
	var others []autoscalingv1.MetricSpec
	if err := json.Unmarshal([]byte(v1.Annotations[hpaMetricsAnnotation]), &others); err != nil || len(others) != 3 {
		t.Errorf("metrics annotation %q: %v", v1.Annotations[hpaMetricsAnnotation], err)
	}
	for _, k := range hpaRoundTripAnnotations {
		if v1.Annotations[k] == "" {
			t.Errorf("annotation %s missing", k)
		}
	}

	// What a v1 client sends back travels through JSON.
	data, err := json.Marshal(v1)
	if err != nil {
		t.Fatal(err)
	}
	var decoded autoscalingv1.HorizontalPodAutoscaler
	if err := json.Unmarshal(data, &decoded); err != nil {
		t.Fatal(err)
	}
	back, err := r.ToStorage(&decoded)
	if err != nil {
		t.Fatal(err)
	}
	out := back.(*autoscalingv2.HorizontalPodAutoscaler)
	in.APIVersion, in.Kind = "autoscaling/v2", "HorizontalPodAutoscaler"
	if !apiequality.Semantic.DeepEqual(in, out) {
		t.Errorf("round trip changed the HPA:\n in %+v\nout %+v", in, out)
	}
}

func TestHPAConversionV1ToV2AndBack(t *testing.T) {
	r := groupResource(t, "autoscaling/v1", "horizontalpodautoscalers")
	in := &autoscalingv1.HorizontalPodAutoscaler{
		TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "HorizontalPodAutoscaler"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Annotations: map[string]string{"team": "web"}},
		Spec: autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv1.CrossVersionObjectReference{Kind: "Deployment", Name: "web"},
			MinReplicas: ptr.To[int32](1), MaxReplicas: 5, TargetCPUUtilizationPercentage: ptr.To[int32](70)},
		Status: autoscalingv1.HorizontalPodAutoscalerStatus{CurrentReplicas: 2, CurrentCPUUtilizationPercentage: ptr.To[int32](35)},
	}
	v2obj, err := r.ToStorage(in.DeepCopy())
	if err != nil {
		t.Fatal(err)
	}
	v2 := v2obj.(*autoscalingv2.HorizontalPodAutoscaler)
	if len(v2.Spec.Metrics) != 1 || !apiequality.Semantic.DeepEqual(v2.Spec.Metrics[0], cpuMetric(70)) || len(v2.Annotations) != 1 {
		t.Errorf("v2 = %+v", v2)
	}
	back, err := r.FromStorage(v2)
	if err != nil {
		t.Fatal(err)
	}
	out := back.(*autoscalingv1.HorizontalPodAutoscaler)
	// The CPU status comes back, with its annotation.
	delete(out.Annotations, hpaCurrentMetricsAnnotation)
	if !apiequality.Semantic.DeepEqual(in, out) {
		t.Errorf("round trip changed the HPA:\n in %+v\nout %+v", in, out)
	}

	noTarget := in.DeepCopy()
	noTarget.Spec.TargetCPUUtilizationPercentage = nil
	stored, _ := r.ToStorage(noTarget)
	if m := stored.(*autoscalingv2.HorizontalPodAutoscaler).Spec.Metrics; len(m) != 1 || !apiequality.Semantic.DeepEqual(m[0], cpuMetric(80)) {
		t.Errorf("v1 HPA without a target stored with metrics %+v", m)
	}
}

func TestHPAV1Strategy(t *testing.T) {
	r := groupResource(t, "autoscaling/v1", "horizontalpodautoscalers")
	h := &autoscalingv1.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Annotations: map[string]string{hpaConditionsAnnotation: "[]"}},
		Spec:       autoscalingv1.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv1.CrossVersionObjectReference{Kind: "Deployment", Name: "web"}},
		Status:     autoscalingv1.HorizontalPodAutoscalerStatus{CurrentReplicas: 4},
	}
	checkErrs(t, "max 0", strategyCreate(r, h), "spec.maxReplicas: Invalid value", "spec.maxReplicas: Invalid value")
	if *h.Spec.MinReplicas != 1 || h.Status.CurrentReplicas != 0 || len(h.Annotations) != 0 {
		t.Errorf("after create: %+v", h)
	}
	h.Spec.MaxReplicas = 3
	h.Spec.TargetCPUUtilizationPercentage = ptr.To[int32](50)
	checkErrs(t, "valid", r.Strategy.Validate(h))

	old := h.DeepCopy()
	old.Annotations = map[string]string{hpaConditionsAnnotation: `[{"type":"AbleToScale","status":"True"}]`}
	n := h.DeepCopy()
	n.Annotations = map[string]string{hpaCurrentMetricsAnnotation: "[]", "team": "web"}
	checkErrs(t, "update", strategyUpdate(r, n, old))
	if len(n.Annotations) != 2 || n.Annotations[hpaConditionsAnnotation] != old.Annotations[hpaConditionsAnnotation] || n.Annotations["team"] != "web" {
		t.Errorf("annotations after update: %v", n.Annotations)
	}
	if row := r.Strategy.Row(h); row[1] != "Deployment/web" || row[2] != "cpu: <unknown>/50%" || row[3] != "1" || row[4] != int64(3) {
		t.Errorf("row = %v", row)
	}
}

func TestHPARow(t *testing.T) {
	r := groupResource(t, "autoscaling/v2", "horizontalpodautoscalers")
	h := fullHPA()
	row := r.Strategy.Row(h)
	if row[1] != "Deployment/web" || row[2] != "memory: 200Mi/200Mi, <unknown>/10 + 2 more..." || row[3] != "2" || row[4] != int64(10) || row[5] != int64(3) {
		t.Errorf("row = %v", row)
	}
	h.Spec.Metrics = []autoscalingv2.MetricSpec{cpuMetric(80)}
	h.Status.CurrentMetrics = h.Status.CurrentMetrics[1:]
	if row := r.Strategy.Row(h); row[2] != "cpu: 40%/80%" {
		t.Errorf("targets = %v", row[2])
	}
	h.Spec.Metrics = nil
	if row := r.Strategy.Row(h); row[2] != "<none>" {
		t.Errorf("targets = %v", row[2])
	}
}
