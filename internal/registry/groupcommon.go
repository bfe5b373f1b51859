package registry

import (
	"fmt"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Helpers shared by the named API groups' strategies.

// templateColumns are the wide Containers and Images columns of workloads.
var templateColumns = []metav1.TableColumnDefinition{
	wideColumn("Containers", "string", "Names of each container in the template."),
	wideColumn("Images", "string", "Images referenced by each container in the template."),
}

// The message upstream gives when a field must be positive.
const mustBePositive = "must be greater than zero"

// positiveField reports Invalid when v is not greater than zero.
func positiveField(v int64, p *field.Path) field.ErrorList {
	if v <= 0 {
		return field.ErrorList{field.Invalid(p, v, mustBePositive)}
	}
	return nil
}

// validateIntOrPercent checks a non-negative integer or a percentage such as
// "25%", as the rollout fields of workloads and disruption budgets hold.
func validateIntOrPercent(v intstr.IntOrString, p *field.Path) field.ErrorList {
	switch v.Type {
	case intstr.String:
		return invalidEach(p, v, validation.IsValidPercent(v.StrVal))
	case intstr.Int:
		if v.IntVal < 0 {
			return field.ErrorList{field.Invalid(p, v.IntVal, "must be greater than or equal to 0")}
		}
		return nil
	}
	return field.ErrorList{field.Invalid(p, v, "must be an integer or percentage (e.g '5%')")}
}

// intOrPercentValue gives the number or the percentage of v, -1 when it is
// neither.
func intOrPercentValue(v *intstr.IntOrString) int {
	if v == nil {
		return 0
	}
	if v.Type == intstr.Int {
		return v.IntValue()
	}
	n, err := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
	if err != nil || !strings.HasSuffix(v.StrVal, "%") {
		return -1
	}
	return n
}

// notMoreThan100Percent reports a percentage above 100%.
func notMoreThan100Percent(v intstr.IntOrString, p *field.Path) field.ErrorList {
	if v.Type == intstr.String && intOrPercentValue(&v) > 100 {
		return field.ErrorList{field.Invalid(p, v, "must not be greater than 100%")}
	}
	return nil
}

// validateSelectorMatchesTemplate checks a workload's selector the way
// upstream's apps and batch groups do: it is required, must be valid and not
// empty, and must select the pod template's labels. kind names the workload
// in the empty-selector message ("deployment", "statefulset").
func validateSelectorMatchesTemplate(sel *metav1.LabelSelector, templateLabels map[string]string, specPath *field.Path, kind string) field.ErrorList {
	sp := specPath.Child("selector")
	if sel == nil {
		return field.ErrorList{field.Required(sp, "")}
	}
	errs := metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, sp)
	if kind != "" && len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		errs = append(errs, field.Invalid(sp, sel, fmt.Sprintf("empty selector is invalid for %s", kind)))
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return append(errs, field.Invalid(sp, sel, "invalid label selector"))
	}
	if !s.Empty() && !s.Matches(labels.Set(templateLabels)) {
		errs = append(errs, field.Invalid(specPath.Child("template", "metadata", "labels"), templateLabels,
			"`selector` does not match template `labels`"))
	}
	return errs
}

// boolPtrCell prints an optional boolean as kubectl does.
func boolPtrCell(b *bool) string {
	switch {
	case b == nil:
		return "<unset>"
	case *b:
		return "True"
	}
	return "False"
}

// listWithMore joins the first limit items and says how many were left
// out, the way kubectl's tables shorten long lists; empty stands for none.
func listWithMore(items []string, limit int, sep, empty string) string {
	if len(items) == 0 {
		return empty
	}
	if len(items) <= limit {
		return strings.Join(items, sep)
	}
	return fmt.Sprintf("%s + %d more...", strings.Join(items[:limit], sep), len(items)-limit)
}
