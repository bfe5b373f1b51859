package registry

import (
	"cmp"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// events are core/v1 Events, also served as events.k8s.io/v1 Events by the
// events group (which stores them here, under the same prefix).
func events() Resource {
	return Resource{
		Kind:       gvk(core, "Event"),
		Name:       "events",
		Singular:   "event",
		ShortNames: []string{"ev"},
		Namespaced: true,
		Strategy: Strategy{
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateEvent(obj.(*corev1.Event))
			},
			Columns: []metav1.TableColumnDefinition{
				column("Last Seen", "string", corev1.Event{}.SwaggerDoc()["lastTimestamp"]),
				column("Type", "string", corev1.Event{}.SwaggerDoc()["type"]),
				column("Reason", "string", corev1.Event{}.SwaggerDoc()["reason"]),
				column("Object", "string", corev1.Event{}.SwaggerDoc()["involvedObject"]),
				wideColumn("Subobject", "string", corev1.ObjectReference{}.SwaggerDoc()["fieldPath"]),
				wideColumn("Source", "string", corev1.Event{}.SwaggerDoc()["source"]),
				column("Message", "string", corev1.Event{}.SwaggerDoc()["message"]),
				wideColumn("First Seen", "string", corev1.Event{}.SwaggerDoc()["firstTimestamp"]),
				wideColumn("Count", "string", corev1.Event{}.SwaggerDoc()["count"]),
				{Name: "Name", Type: "string", Format: "name", Priority: 1, Description: nameColumn.Description},
			},
			Row:    func(obj runtime.Object) []interface{} { return eventRow(obj.(*corev1.Event)) },
			Fields: func(obj runtime.Object) fields.Set { return eventFields(obj.(*corev1.Event)) },
		},
	}
}

// validateEvent checks that an event lives in its object's namespace (or
// in default, for cluster-scoped objects), and, for events written through
// the new API (with eventTime), the fields that API requires.
func validateEvent(e *corev1.Event) field.ErrorList {
	var errs field.ErrorList
	nsPath := field.NewPath("involvedObject", "namespace")
	if e.InvolvedObject.Namespace == "" {
		if e.Namespace != "" && e.Namespace != metav1.NamespaceDefault && e.EventTime.IsZero() {
			errs = append(errs, field.Invalid(nsPath, e.InvolvedObject.Namespace, "does not match event.namespace"))
		}
	} else if e.Namespace != e.InvolvedObject.Namespace {
		errs = append(errs, field.Invalid(nsPath, e.InvolvedObject.Namespace, "does not match event.namespace"))
	}
	if e.EventTime.IsZero() {
		return errs
	}
	for _, f := range []struct{ name, value string }{
		{"reportingComponent", e.ReportingController}, {"reportingInstance", e.ReportingInstance},
		{"action", e.Action}, {"reason", e.Reason},
	} {
		if f.value == "" {
			errs = append(errs, field.Required(field.NewPath(f.name), ""))
		}
	}
	if e.Type != corev1.EventTypeNormal && e.Type != corev1.EventTypeWarning {
		errs = append(errs, field.Invalid(field.NewPath("type"), "", fmt.Sprintf("has invalid value: %v", e.Type)))
	}
	return errs
}

func eventRow(e *corev1.Event) []interface{} {
	first := age(e.FirstTimestamp)
	if e.FirstTimestamp.IsZero() {
		first = microSince(e.EventTime)
	}
	last := age(e.LastTimestamp)
	if e.LastTimestamp.IsZero() {
		last = first
	}
	count := e.Count
	if e.Series != nil {
		last = microSince(e.Series.LastObservedTime)
		count = e.Series.Count
	} else if count == 0 {
		count = 1
	}
	target := strings.ToLower(e.InvolvedObject.Kind)
	if e.InvolvedObject.Name != "" {
		target += "/" + e.InvolvedObject.Name
	}
	return []interface{}{last, e.Type, e.Reason, target, e.InvolvedObject.FieldPath, eventSource(e),
		strings.TrimSpace(e.Message), first, int64(count), e.Name}
}

// eventSource is "component, host", each taken from the old source field
// or, when that is empty, the new reporting field (kubectl's
// formatEventSource).
func eventSource(e *corev1.Event) string {
	component := cmp.Or(e.Source.Component, e.ReportingController)
	if host := cmp.Or(e.Source.Host, e.ReportingInstance); host != "" {
		return component + ", " + host
	}
	return component
}

func eventFields(e *corev1.Event) fields.Set {
	o := e.InvolvedObject
	return fields.Set{
		"involvedObject.kind":            o.Kind,
		"involvedObject.namespace":       o.Namespace,
		"involvedObject.name":            o.Name,
		"involvedObject.uid":             string(o.UID),
		"involvedObject.apiVersion":      o.APIVersion,
		"involvedObject.resourceVersion": o.ResourceVersion,
		"involvedObject.fieldPath":       o.FieldPath,
		"reason":                         e.Reason,
		"reportingComponent":             e.ReportingController,
		"source":                         cmp.Or(e.Source.Component, e.ReportingController),
		"type":                           e.Type,
	}
}
