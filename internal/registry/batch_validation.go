package registry

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// Upstream's limits on indexed jobs.
const (
	maxIndexedJobParallelism = 100000
	maxJobSuccessPolicyRules = 20
)

func validateJob(j *batchv1.Job) field.ErrorList {
	errs := validateGeneratedSelector(j)
	p := field.NewPath("spec")
	errs = append(errs, validateJobSpecFields(&j.Spec, p)...)
	errs = append(errs, validateSelectorMatchesTemplate(j.Spec.Selector, j.Spec.Template.Labels, p, "")...)
	// Indexed pods are named <job>-<index>, which must be a DNS label.
	if ptr.Deref(j.Spec.CompletionMode, "") == batchv1.IndexedCompletion && ptr.Deref(j.Spec.Completions, 0) > 0 {
		host := fmt.Sprintf("%s-%d", j.Name, *j.Spec.Completions-1)
		if len(validation.IsDNS1123Label(host)) > 0 {
			errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), j.Name,
				fmt.Sprintf("will not able to create pod with invalid DNS label: %s", host)))
		}
	}
	return errs
}

// validateGeneratedSelector checks that a job with a generated selector
// still selects on its own UID and has the generated template labels.
func validateGeneratedSelector(j *batchv1.Job) field.ErrorList {
	if ptr.Deref(j.Spec.ManualSelector, false) || j.Spec.Template.Labels == nil {
		return nil
	}
	var errs field.ErrorList
	if j.UID == "" {
		errs = append(errs, field.Required(field.NewPath("metadata", "uid"), ""))
	}
	lp := field.NewPath("spec", "template", "metadata", "labels")
	for _, l := range []struct{ key, value string }{
		{legacyControllerUIDLabel, string(j.UID)}, {legacyJobNameLabel, j.Name},
		{batchv1.ControllerUidLabel, string(j.UID)}, {batchv1.JobNameLabel, j.Name},
	} {
		v, ok := j.Spec.Template.Labels[l.key]
		switch {
		case !ok:
			errs = append(errs, field.Required(lp.Key(l.key), "must be '"+l.value+"'"))
		case v != l.value:
			errs = append(errs, field.Invalid(lp.Key(l.key), j.Spec.Template.Labels, "must be '"+l.value+"'"))
		}
	}
	if s, err := metav1.LabelSelectorAsSelector(j.Spec.Selector); err == nil &&
		!s.Matches(labels.Set{batchv1.ControllerUidLabel: string(j.UID)}) {
		errs = append(errs, field.Invalid(field.NewPath("spec", "selector"), j.Spec.Selector, "`selector` not auto-generated"))
	}
	return errs
}

// validateJobSpecFields checks a job spec but for its selector, which jobs
// require and cron job templates must leave to the server.
func validateJobSpecFields(s *batchv1.JobSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, f := range []struct {
		name  string
		value *int32
	}{{"parallelism", s.Parallelism}, {"completions", s.Completions}, {"backoffLimit", s.BackoffLimit},
		{"ttlSecondsAfterFinished", s.TTLSecondsAfterFinished}, {"backoffLimitPerIndex", s.BackoffLimitPerIndex},
		{"maxFailedIndexes", s.MaxFailedIndexes}} {
		if f.value != nil {
			errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*f.value), p.Child(f.name))...)
		}
	}
	if s.ActiveDeadlineSeconds != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(*s.ActiveDeadlineSeconds, p.Child("activeDeadlineSeconds"))...)
	}
	indexed := false
	if m := s.CompletionMode; m != nil {
		indexed = *m == batchv1.IndexedCompletion
		errs = append(errs, oneOf(p.Child("completionMode"), string(*m), string(batchv1.NonIndexedCompletion), string(batchv1.IndexedCompletion))...)
	}
	if indexed {
		if s.Completions == nil {
			errs = append(errs, field.Required(p.Child("completions"), "when completion mode is Indexed"))
		}
		if n := ptr.Deref(s.Parallelism, 0); n > maxIndexedJobParallelism {
			errs = append(errs, field.Invalid(p.Child("parallelism"), n,
				fmt.Sprintf("must be less than or equal to %d when completion mode is Indexed", maxIndexedJobParallelism)))
		}
		if s.Completions != nil && s.MaxFailedIndexes != nil && *s.MaxFailedIndexes > *s.Completions {
			errs = append(errs, field.Invalid(p.Child("maxFailedIndexes"), *s.MaxFailedIndexes, "must be less than or equal to completions"))
		}
	} else {
		if s.BackoffLimitPerIndex != nil {
			errs = append(errs, field.Invalid(p.Child("backoffLimitPerIndex"), *s.BackoffLimitPerIndex, "requires indexed completion mode"))
		}
		if s.MaxFailedIndexes != nil {
			errs = append(errs, field.Invalid(p.Child("maxFailedIndexes"), *s.MaxFailedIndexes, "requires indexed completion mode"))
		}
	}
	if s.PodFailurePolicy != nil {
		errs = append(errs, validatePodFailurePolicy(s.PodFailurePolicy, p.Child("podFailurePolicy"))...)
	}
	if sp := s.SuccessPolicy; sp != nil {
		errs = append(errs, validateSuccessPolicy(sp, indexed, p.Child("successPolicy"))...)
	}
	if rp := s.PodReplacementPolicy; rp != nil {
		allowed := []string{string(batchv1.Failed), string(batchv1.TerminatingOrFailed)}
		if s.PodFailurePolicy != nil {
			allowed = []string{string(batchv1.Failed)}
		}
		errs = append(errs, oneOf(p.Child("podReplacementPolicy"), string(*rp), allowed...)...)
	}

	tp := p.Child("template")
	errs = append(errs, validatePodTemplateSpec(&s.Template, tp)...)
	// An unset restart policy was defaulted to Always, so both are told to
	// pick one a job can use.
	rp := tp.Child("spec", "restartPolicy")
	switch policy := s.Template.Spec.RestartPolicy; {
	case policy == corev1.RestartPolicyAlways || policy == "":
		errs = append(errs, field.Required(rp, fmt.Sprintf("valid values: %q, %q", corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever)))
	case policy != corev1.RestartPolicyOnFailure && policy != corev1.RestartPolicyNever:
		errs = append(errs, field.NotSupported(rp, policy, []string{string(corev1.RestartPolicyOnFailure), string(corev1.RestartPolicyNever)}))
	case s.PodFailurePolicy != nil && policy != corev1.RestartPolicyNever:
		errs = append(errs, field.Invalid(rp, policy, fmt.Sprintf("only %q is supported when podFailurePolicy is specified", corev1.RestartPolicyNever)))
	}
	return errs
}

func validatePodFailurePolicy(pfp *batchv1.PodFailurePolicy, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	actions := []string{string(batchv1.PodFailurePolicyActionCount), string(batchv1.PodFailurePolicyActionFailIndex),
		string(batchv1.PodFailurePolicyActionFailJob), string(batchv1.PodFailurePolicyActionIgnore)}
	for i, r := range pfp.Rules {
		rp := p.Child("rules").Index(i)
		errs = append(errs, oneOf(rp.Child("action"), string(r.Action), actions...)...)
		switch {
		case r.OnExitCodes != nil && len(r.OnPodConditions) > 0:
			errs = append(errs, field.Invalid(rp, field.OmitValueType{}, "specifying both OnExitCodes and OnPodConditions is not supported"))
		case r.OnExitCodes == nil && len(r.OnPodConditions) == 0:
			errs = append(errs, field.Invalid(rp, field.OmitValueType{}, "specifying one of OnExitCodes and OnPodConditions is required"))
		}
		if ec := r.OnExitCodes; ec != nil {
			ep := rp.Child("onExitCodes")
			errs = append(errs, oneOf(ep.Child("operator"), string(ec.Operator),
				string(batchv1.PodFailurePolicyOnExitCodesOpIn), string(batchv1.PodFailurePolicyOnExitCodesOpNotIn))...)
			if len(ec.Values) == 0 {
				errs = append(errs, field.Invalid(ep.Child("values"), ec.Values, "at least one value is required"))
			}
			for j, v := range ec.Values {
				if ec.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn && v == 0 {
					errs = append(errs, field.Invalid(ep.Child("values").Index(j), v, "must not be 0 for the In operator"))
				}
				if j > 0 && ec.Values[j-1] >= v {
					errs = append(errs, field.Invalid(ep.Child("values").Index(j), v, "must be ordered"))
				}
			}
		}
		for j, c := range r.OnPodConditions {
			cp := rp.Child("onPodConditions").Index(j)
			if c.Type == "" {
				errs = append(errs, field.Required(cp.Child("type"), ""))
			}
			errs = append(errs, oneOf(cp.Child("status"), string(c.Status),
				string(corev1.ConditionFalse), string(corev1.ConditionTrue), string(corev1.ConditionUnknown))...)
		}
	}
	return errs
}

func validateSuccessPolicy(sp *batchv1.SuccessPolicy, indexed bool, p *field.Path) field.ErrorList {
	if !indexed {
		return field.ErrorList{field.Invalid(p, *sp, "requires indexed completion mode")}
	}
	rp := p.Child("rules")
	switch {
	case len(sp.Rules) == 0:
		return field.ErrorList{field.Required(rp, "at least one rules must be specified when the successPolicy is specified")}
	case len(sp.Rules) > maxJobSuccessPolicyRules:
		return field.ErrorList{field.TooMany(rp, len(sp.Rules), maxJobSuccessPolicyRules)}
	}
	var errs field.ErrorList
	for i, r := range sp.Rules {
		if r.SucceededIndexes == nil && r.SucceededCount == nil {
			errs = append(errs, field.Required(rp.Index(i), "at least one of succeededCount or succeededIndexes must be specified"))
		}
		if r.SucceededCount != nil {
			errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*r.SucceededCount), rp.Index(i).Child("succeededCount"))...)
		}
	}
	return errs
}

// validateJobUpdate keeps what a running job depends on: the selector,
// completions (but for indexed jobs scaled with parallelism), the
// completion mode and the failure and success policies. The pod template
// is fixed too, except that a suspended job that never started may change
// where its pods will run.
func validateJobUpdate(j, old *batchv1.Job) field.ErrorList {
	s, o := &j.Spec, &old.Spec
	p := field.NewPath("spec")
	var errs field.ErrorList
	immutable := func(name string, n, o interface{}) {
		errs = append(errs, apivalidation.ValidateImmutableField(n, o, p.Child(name))...)
	}
	indexed := ptr.Deref(s.CompletionMode, "") == batchv1.IndexedCompletion
	if !indexed || s.Completions == nil || apiequality.Semantic.DeepEqual(s.Completions, o.Completions) {
		immutable("completions", s.Completions, o.Completions)
	} else if *s.Completions != ptr.Deref(s.Parallelism, 0) {
		errs = append(errs, field.Invalid(p.Child("completions"), s.Completions, "can only be modified in tandem with spec.parallelism"))
	}
	immutable("selector", s.Selector, o.Selector)
	immutable("completionMode", s.CompletionMode, o.CompletionMode)
	immutable("podFailurePolicy", s.PodFailurePolicy, o.PodFailurePolicy)
	immutable("backoffLimitPerIndex", s.BackoffLimitPerIndex, o.BackoffLimitPerIndex)
	immutable("managedBy", s.ManagedBy, o.ManagedBy)
	immutable("successPolicy", s.SuccessPolicy, o.SuccessPolicy)

	oldTemplate := o.Template.DeepCopy()
	if ptr.Deref(s.Suspend, false) && ptr.Deref(o.Suspend, false) && old.Status.StartTime == nil {
		t := &s.Template
		oldTemplate.Labels, oldTemplate.Annotations = t.Labels, t.Annotations
		oldTemplate.Spec.NodeSelector, oldTemplate.Spec.Tolerations = t.Spec.NodeSelector, t.Spec.Tolerations
		oldTemplate.Spec.SchedulingGates = t.Spec.SchedulingGates
		ignoreNodeAffinity(&oldTemplate.Spec, &t.Spec)
	}
	immutable("template", &s.Template, oldTemplate)
	return errs
}

// ignoreNodeAffinity makes the node affinity of old that of new, leaving
// the pod (anti-)affinity terms to compare.
func ignoreNodeAffinity(old, new *corev1.PodSpec) {
	switch {
	case new.Affinity == nil && old.Affinity != nil:
		old.Affinity.NodeAffinity = nil
		if *old.Affinity == (corev1.Affinity{}) {
			old.Affinity = nil
		}
	case new.Affinity != nil && old.Affinity == nil:
		old.Affinity = &corev1.Affinity{NodeAffinity: new.Affinity.NodeAffinity}
	case new.Affinity != nil:
		old.Affinity.NodeAffinity = new.Affinity.NodeAffinity
	}
}
