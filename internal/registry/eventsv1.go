package registry

import (
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Upstream's limits on the strings of an event.
const (
	maxEventReportingInstance = 128
	maxEventAction            = 128
	maxEventReason            = 128
	maxEventNote              = 1024
)

// eventsV1 serves events.k8s.io/v1 Events. They are the core/v1 Events under
// other field names, stored once under /registry/events: both APIs see the
// same objects. Validation errors name the core fields, as upstream's do,
// since upstream validates the converted object.
func eventsV1() Resource {
	stored := gvk(core, "Event")
	doc := corev1.Event{}.SwaggerDoc()
	return Resource{
		Kind: gvk(eventsv1.SchemeGroupVersion, "Event"), Name: "events", Singular: "event",
		ShortNames: []string{"ev"}, Namespaced: true,
		StoragePrefix: "events", StorageKind: &stored,
		ToStorage: func(obj runtime.Object) (runtime.Object, error) {
			e, ok := obj.(*eventsv1.Event)
			if !ok {
				return nil, fmt.Errorf("registry: expected an events.k8s.io/v1 Event, got %T", obj)
			}
			return eventToCore(e), nil
		},
		FromStorage: func(obj runtime.Object) (runtime.Object, error) {
			e, ok := obj.(*corev1.Event)
			if !ok {
				return nil, fmt.Errorf("registry: expected a core/v1 Event, got %T", obj)
			}
			return eventFromCore(e), nil
		},
		Strategy: Strategy{
			Validate: func(obj runtime.Object) field.ErrorList {
				return validateEventV1(eventToCore(obj.(*eventsv1.Event)))
			},
			ValidateUpdate: func(obj, old runtime.Object) field.ErrorList {
				return validateEventV1Update(eventToCore(obj.(*eventsv1.Event)), eventToCore(old.(*eventsv1.Event)))
			},
			Columns: []metav1.TableColumnDefinition{
				column("Last Seen", "string", doc["lastTimestamp"]),
				column("Type", "string", doc["type"]),
				column("Reason", "string", doc["reason"]),
				column("Object", "string", doc["involvedObject"]),
				wideColumn("Subobject", "string", corev1.ObjectReference{}.SwaggerDoc()["fieldPath"]),
				wideColumn("Source", "string", doc["source"]),
				column("Message", "string", doc["message"]),
				wideColumn("First Seen", "string", doc["firstTimestamp"]),
				wideColumn("Count", "string", doc["count"]),
				{Name: "Name", Type: "string", Format: "name", Priority: 1, Description: nameColumn.Description},
			},
			Row: func(obj runtime.Object) []interface{} { return eventRow(eventToCore(obj.(*eventsv1.Event))) },
			Fields: func(obj runtime.Object) fields.Set {
				e := obj.(*eventsv1.Event)
				return fields.Set{
					"regarding.kind":            e.Regarding.Kind,
					"regarding.namespace":       e.Regarding.Namespace,
					"regarding.name":            e.Regarding.Name,
					"regarding.uid":             string(e.Regarding.UID),
					"regarding.apiVersion":      e.Regarding.APIVersion,
					"regarding.resourceVersion": e.Regarding.ResourceVersion,
					"regarding.fieldPath":       e.Regarding.FieldPath,
					"reason":                    e.Reason,
					"reportingController":       e.ReportingController,
					"type":                      e.Type,
				}
			},
		},
	}
}

// eventToCore converts an events.k8s.io/v1 Event to the core/v1 Event it is
// stored as.
func eventToCore(e *eventsv1.Event) *corev1.Event {
	out := &corev1.Event{
		TypeMeta:            metav1.TypeMeta{APIVersion: core.String(), Kind: "Event"},
		ObjectMeta:          *e.ObjectMeta.DeepCopy(),
		InvolvedObject:      e.Regarding,
		Reason:              e.Reason,
		Message:             e.Note,
		Source:              e.DeprecatedSource,
		FirstTimestamp:      e.DeprecatedFirstTimestamp,
		LastTimestamp:       e.DeprecatedLastTimestamp,
		Count:               e.DeprecatedCount,
		Type:                e.Type,
		EventTime:           e.EventTime,
		Action:              e.Action,
		ReportingController: e.ReportingController,
		ReportingInstance:   e.ReportingInstance,
	}
	if e.Series != nil {
		out.Series = &corev1.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	if e.Related != nil {
		r := *e.Related
		out.Related = &r
	}
	return out
}

// eventFromCore converts a stored core/v1 Event to events.k8s.io/v1.
func eventFromCore(e *corev1.Event) *eventsv1.Event {
	out := &eventsv1.Event{
		TypeMeta:                 metav1.TypeMeta{APIVersion: eventsv1.SchemeGroupVersion.String(), Kind: "Event"},
		ObjectMeta:               *e.ObjectMeta.DeepCopy(),
		EventTime:                e.EventTime,
		ReportingController:      e.ReportingController,
		ReportingInstance:        e.ReportingInstance,
		Action:                   e.Action,
		Reason:                   e.Reason,
		Regarding:                e.InvolvedObject,
		Note:                     e.Message,
		Type:                     e.Type,
		DeprecatedSource:         e.Source,
		DeprecatedFirstTimestamp: e.FirstTimestamp,
		DeprecatedLastTimestamp:  e.LastTimestamp,
		DeprecatedCount:          e.Count,
	}
	if e.Series != nil {
		out.Series = &eventsv1.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	if e.Related != nil {
		r := *e.Related
		out.Related = &r
	}
	return out
}

// validateEventV1 checks an event created through events.k8s.io/v1, which
// upstream holds to stricter rules than core/v1: the new fields are
// required and the deprecated ones must stay unset.
func validateEventV1(e *corev1.Event) field.ErrorList {
	errs := validateEventV1Common(e)
	if e.EventTime.IsZero() {
		errs = append(errs, field.Required(field.NewPath("eventTime"), ""))
	}
	if e.Type != corev1.EventTypeNormal && e.Type != corev1.EventTypeWarning {
		errs = append(errs, field.Invalid(field.NewPath("type"), "", fmt.Sprintf("has invalid value: %v", e.Type)))
	}
	if !e.FirstTimestamp.IsZero() {
		errs = append(errs, field.Invalid(field.NewPath("firstTimestamp"), "", "needs to be unset"))
	}
	if !e.LastTimestamp.IsZero() {
		errs = append(errs, field.Invalid(field.NewPath("lastTimestamp"), "", "needs to be unset"))
	}
	if e.Count != 0 {
		errs = append(errs, field.Invalid(field.NewPath("count"), "", "needs to be unset"))
	}
	if e.Source.Component != "" || e.Source.Host != "" {
		errs = append(errs, field.Invalid(field.NewPath("source"), "", "needs to be unset"))
	}
	return errs
}

// validateEventV1Update lets an update change only the series (and the
// metadata) of an event.
func validateEventV1Update(e, old *corev1.Event) field.ErrorList {
	errs := validateEventV1Common(e)
	immutable := []struct {
		name     string
		new, old interface{}
	}{
		{"involvedObject", e.InvolvedObject, old.InvolvedObject},
		{"reason", e.Reason, old.Reason},
		{"message", e.Message, old.Message},
		{"source", e.Source, old.Source},
		{"firstTimestamp", e.FirstTimestamp.UTC(), old.FirstTimestamp.UTC()},
		{"lastTimestamp", e.LastTimestamp.UTC(), old.LastTimestamp.UTC()},
		{"count", e.Count, old.Count},
		{"type", e.Type, old.Type},
		{"eventTime", e.EventTime.UTC(), old.EventTime.UTC()},
		{"action", e.Action, old.Action},
		{"related", e.Related, old.Related},
		{"reportingController", e.ReportingController, old.ReportingController},
		{"reportingInstance", e.ReportingInstance, old.ReportingInstance},
	}
	for _, f := range immutable {
		if !reflect.DeepEqual(f.new, f.old) {
			errs = append(errs, field.Invalid(field.NewPath(f.name), f.new, "field is immutable"))
		}
	}
	return errs
}

// validateEventV1Common holds the rules of create and update: the reporting
// fields, the namespace of the regarded object and the series.
func validateEventV1Common(e *corev1.Event) field.ErrorList {
	var errs field.ErrorList
	if e.InvolvedObject.Namespace == "" && e.Namespace != metav1.NamespaceDefault && e.Namespace != metav1.NamespaceSystem {
		errs = append(errs, field.Invalid(field.NewPath("involvedObject", "namespace"), e.InvolvedObject.Namespace, "does not match event.namespace"))
	}
	rc := field.NewPath("reportingController")
	if e.ReportingController == "" {
		errs = append(errs, field.Required(rc, ""))
	} else {
		errs = append(errs, invalidEach(rc, e.ReportingController, validation.IsQualifiedName(e.ReportingController))...)
	}
	errs = append(errs, requiredWithMax(e.ReportingInstance, maxEventReportingInstance, field.NewPath("reportingInstance"))...)
	errs = append(errs, requiredWithMax(e.Action, maxEventAction, field.NewPath("action"))...)
	errs = append(errs, requiredWithMax(e.Reason, maxEventReason, field.NewPath("reason"))...)
	if len(e.Message) > maxEventNote {
		errs = append(errs, field.Invalid(field.NewPath("message"), "", fmt.Sprintf("can have at most %v characters", maxEventNote)))
	}
	if s := e.Series; s != nil {
		if s.Count < 2 {
			errs = append(errs, field.Invalid(field.NewPath("series", "count"), "", "should be at least 2"))
		}
		if s.LastObservedTime.IsZero() {
			errs = append(errs, field.Required(field.NewPath("series", "lastObservedTime"), ""))
		}
	}
	return errs
}

func requiredWithMax(v string, max int, p *field.Path) field.ErrorList {
	if v == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	if len(v) > max {
		return field.ErrorList{field.Invalid(p, "", fmt.Sprintf("can have at most %v characters", max))}
	}
	return nil
}
