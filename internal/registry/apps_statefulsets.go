package registry

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// statefulSetUpdateForbidden is upstream's message for an update that
// touches a part of the spec that is fixed at creation.
const statefulSetUpdateForbidden = "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', " +
	"'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"

func statefulSets() Resource {
	return Resource{
		Kind: gvk(appsGV, "StatefulSet"), Name: "statefulsets", Singular: "statefulset",
		ShortNames: []string{"sts"}, Categories: []string{"all"}, Namespaced: true,
		Subresources: []string{"status", "scale"},
		Strategy: Strategy{
			HasStatus: true, Generation: true,
			Default: func(obj runtime.Object) { defaultStatefulSet(obj.(*appsv1.StatefulSet)) },
			PrepareForCreate: func(obj runtime.Object) {
				obj.(*appsv1.StatefulSet).Status = appsv1.StatefulSetStatus{}
			},
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateStatefulSetSpec(&obj.(*appsv1.StatefulSet).Spec, field.NewPath("spec"))
			},
			ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
				// Only the fields named in the message may change; the selector
				// is among the fixed ones.
				n, o := obj.(*appsv1.StatefulSet).Spec.DeepCopy(), old.(*appsv1.StatefulSet).Spec.DeepCopy()
				// Claim templates stored before their apiVersion and kind
				// were filled in compare equal to ones with them.
				for _, s := range []*appsv1.StatefulSetSpec{n, o} {
					for i := range s.VolumeClaimTemplates {
						s.VolumeClaimTemplates[i].TypeMeta = metav1.TypeMeta{}
					}
				}
				n.Replicas, n.Ordinals, n.Template, n.UpdateStrategy = o.Replicas, o.Ordinals, o.Template, o.UpdateStrategy
				n.RevisionHistoryLimit, n.PersistentVolumeClaimRetentionPolicy, n.MinReadySeconds =
					o.RevisionHistoryLimit, o.PersistentVolumeClaimRetentionPolicy, o.MinReadySeconds
				if !apiequality.Semantic.DeepEqual(n, o) {
					return field.ErrorList{field.Forbidden(field.NewPath("spec"), statefulSetUpdateForbidden)}
				}
				return nil
			},
			ValidateStatusUpdate: func(obj, old runtime.Object) field.ErrorList {
				s := &obj.(*appsv1.StatefulSet).Status
				p := field.NewPath("status")
				replicas, ready := statusCount{"replicas", int64(s.Replicas)}, statusCount{"readyReplicas", int64(s.ReadyReplicas)}
				current, updated := statusCount{"currentReplicas", int64(s.CurrentReplicas)}, statusCount{"updatedReplicas", int64(s.UpdatedReplicas)}
				available := statusCount{"availableReplicas", int64(s.AvailableReplicas)}
				errs := validateCounts(p, replicas, ready, current, updated, available,
					statusCount{"observedGeneration", s.ObservedGeneration},
					statusCount{"collisionCount", optionalCount(s.CollisionCount)})
				for _, c := range []statusCount{ready, current, updated, available} {
					errs = append(errs, atMost(p, c, replicas)...)
				}
				errs = append(errs, atMost(p, available, ready)...)
				return append(errs, collisionCountNotDecremented(s.CollisionCount, old.(*appsv1.StatefulSet).Status.CollisionCount)...)
			},
			Columns: append([]metav1.TableColumnDefinition{
				nameColumn,
				column("Ready", "string", "Number of the pod with ready state"),
				ageColumn,
			}, templateColumns...),
			Row: func(obj runtime.Object) []interface{} {
				s := obj.(*appsv1.StatefulSet)
				ready := fmt.Sprintf("%d/%d", s.Status.ReadyReplicas, ptr.Deref(s.Spec.Replicas, 0))
				return append([]interface{}{s.Name, ready, age(s.CreationTimestamp)}, workloadCells(&s.Spec.Template, nil, false)...)
			},
		},
	}
}

func defaultStatefulSet(ss *appsv1.StatefulSet) {
	s := &ss.Spec
	if s.PodManagementPolicy == "" {
		s.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	if s.UpdateStrategy.Type == "" {
		s.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
		if s.UpdateStrategy.RollingUpdate == nil {
			s.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
	}
	if ru := s.UpdateStrategy.RollingUpdate; s.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType && ru != nil && ru.Partition == nil {
		ru.Partition = ptr.To[int32](0)
	}
	if s.PersistentVolumeClaimRetentionPolicy == nil {
		s.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	if pol := s.PersistentVolumeClaimRetentionPolicy; pol.WhenDeleted == "" {
		pol.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if pol := s.PersistentVolumeClaimRetentionPolicy; pol.WhenScaled == "" {
		pol.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if s.Replicas == nil {
		s.Replicas = ptr.To[int32](1)
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = ptr.To[int32](10)
	}
	defaultPodTemplateSpec(&s.Template)
	// Claim templates get the PersistentVolumeClaim defaults, and always
	// carry apiVersion v1 and kind PersistentVolumeClaim, whatever the
	// client sent, as upstream's apps/v1 conversion writes them.
	for i := range s.VolumeClaimTemplates {
		c := &s.VolumeClaimTemplates[i]
		c.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"}
		if c.Spec.VolumeMode == nil {
			c.Spec.VolumeMode = ptr.To(corev1.PersistentVolumeFilesystem)
		}
		if c.Status.Phase == "" {
			c.Status.Phase = corev1.ClaimPending
		}
	}
}

func validateStatefulSetSpec(s *appsv1.StatefulSetSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch s.PodManagementPolicy {
	case "":
		errs = append(errs, field.Required(p.Child("podManagementPolicy"), ""))
	case appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
	default:
		errs = append(errs, field.Invalid(p.Child("podManagementPolicy"), s.PodManagementPolicy,
			fmt.Sprintf("must be '%s' or '%s'", appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement)))
	}

	up := p.Child("updateStrategy")
	switch s.UpdateStrategy.Type {
	case "":
		errs = append(errs, field.Required(up, ""))
	case appsv1.OnDeleteStatefulSetStrategyType:
		if s.UpdateStrategy.RollingUpdate != nil {
			errs = append(errs, field.Invalid(up.Child("rollingUpdate"), s.UpdateStrategy.RollingUpdate,
				fmt.Sprintf("only allowed for updateStrategy '%s'", appsv1.RollingUpdateStatefulSetStrategyType)))
		}
	case appsv1.RollingUpdateStatefulSetStrategyType:
		if ru := s.UpdateStrategy.RollingUpdate; ru != nil {
			rp := up.Child("rollingUpdate")
			errs = append(errs, apivalidation.ValidateNonnegativeField(int64(ptr.Deref(ru.Partition, 0)), rp.Child("partition"))...)
			if mu := ru.MaxUnavailable; mu != nil {
				errs = append(errs, validateIntOrPercent(*mu, rp.Child("maxUnavailable"))...)
				if intOrPercentValue(mu) == 0 {
					errs = append(errs, field.Invalid(rp.Child("maxUnavailable"), *mu, "cannot be 0"))
				}
				errs = append(errs, notMoreThan100Percent(*mu, rp.Child("maxUnavailable"))...)
			}
		}
	default:
		errs = append(errs, field.Invalid(up, s.UpdateStrategy, fmt.Sprintf("must be '%s' or '%s'",
			appsv1.RollingUpdateStatefulSetStrategyType, appsv1.OnDeleteStatefulSetStrategyType)))
	}

	if pol := s.PersistentVolumeClaimRetentionPolicy; pol != nil {
		pp := p.Child("persistentVolumeClaimRetentionPolicy")
		allowed := []string{string(appsv1.DeletePersistentVolumeClaimRetentionPolicyType), string(appsv1.RetainPersistentVolumeClaimRetentionPolicyType)}
		errs = append(errs, oneOf(pp.Child("whenDeleted"), string(pol.WhenDeleted), allowed...)...)
		errs = append(errs, oneOf(pp.Child("whenScaled"), string(pol.WhenScaled), allowed...)...)
	}
	if s.Ordinals != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.Ordinals.Start), p.Child("ordinals.start"))...)
	}
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(ptr.Deref(s.Replicas, 0)), p.Child("replicas"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(s.MinReadySeconds), p.Child("minReadySeconds"))...)
	errs = append(errs, validateSelectorMatchesTemplate(s.Selector, s.Template.Labels, p, "statefulset")...)

	// The pods mount their claims by the claim templates' names, so the
	// template is checked as if it had those volumes (a claim replaces a
	// template volume of the same name, as the controller does).
	t := s.Template.DeepCopy()
	have := map[string]bool{}
	for _, v := range t.Spec.Volumes {
		have[v.Name] = true
	}
	for _, c := range s.VolumeClaimTemplates {
		if have[c.Name] {
			continue
		}
		t.Spec.Volumes = append(t.Spec.Volumes, corev1.Volume{Name: c.Name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c.Name}}})
	}
	return append(errs, validateAlwaysRestartTemplate(t, p.Child("template"), "StatefulSet")...)
}
