package registry

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func mkEventV1(mods ...func(*eventsv1.Event)) *eventsv1.Event {
	e := &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: "web.1", Namespace: "default"},
		EventTime:           metav1.NewMicroTime(time.Now().Add(-2 * time.Minute)),
		ReportingController: "skiff.dev/scheduler",
		ReportingInstance:   "skiff-1",
		Action:              "Binding",
		Reason:              "Scheduled",
		Regarding:           corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web", UID: "u1", APIVersion: "v1"},
		Note:                "Successfully assigned default/web to node-1",
		Type:                corev1.EventTypeNormal,
	}
	for _, m := range mods {
		m(e)
	}
	return e
}

func TestEventV1Conversion(t *testing.T) {
	r := groupResource(t, "events.k8s.io/v1", "events")
	if r.StorageKind.String() != "/v1, Kind=Event" || r.StoragePrefix != "events" {
		t.Errorf("stored as %v under %q", r.StorageKind, r.StoragePrefix)
	}
	now := metav1.NewTime(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
	in := mkEventV1(func(e *eventsv1.Event) {
		e.TypeMeta = metav1.TypeMeta{APIVersion: "events.k8s.io/v1", Kind: "Event"}
		e.Series = &eventsv1.EventSeries{Count: 3, LastObservedTime: metav1.NewMicroTime(now.Time)}
		e.Related = &corev1.ObjectReference{Kind: "Node", Name: "node-1"}
		e.DeprecatedSource = corev1.EventSource{Component: "scheduler", Host: "h"}
		e.DeprecatedFirstTimestamp, e.DeprecatedLastTimestamp, e.DeprecatedCount = now, now, 4
	})
	stored, err := r.ToStorage(in.DeepCopy())
	if err != nil {
		t.Fatal(err)
	}
	c := stored.(*corev1.Event)
	if c.APIVersion != "v1" || c.InvolvedObject != in.Regarding || c.Message != in.Note || c.Count != 4 ||
		c.Source.Component != "scheduler" || c.ReportingController != in.ReportingController ||
		c.Series.Count != 3 || c.Related.Name != "node-1" || !c.FirstTimestamp.Equal(&now) || c.Action != "Binding" {
		t.Errorf("core event = %+v", c)
	}
	back, err := r.FromStorage(c)
	if err != nil {
		t.Fatal(err)
	}
	if !apiequality.Semantic.DeepEqual(in, back) {
		t.Errorf("round trip:\n in %+v\nout %+v", in, back)
	}
	if _, err := r.ToStorage(&corev1.Event{}); err == nil {
		t.Error("ToStorage accepted a core event")
	}
}

func TestEventV1Validation(t *testing.T) {
	r := groupResource(t, "events.k8s.io/v1", "events")
	for name, c := range map[string]struct {
		mod  func(*eventsv1.Event)
		want []string
	}{
		"valid":         {func(*eventsv1.Event) {}, nil},
		"no event time": {func(e *eventsv1.Event) { e.EventTime = metav1.MicroTime{} }, []string{"eventTime: Required value"}},
		"bad type":      {func(e *eventsv1.Event) { e.Type = "Info" }, []string{"type: Invalid value"}},
		"no controller": {func(e *eventsv1.Event) { e.ReportingController = "" }, []string{"reportingController: Required value"}},
		"no action":     {func(e *eventsv1.Event) { e.Action = "" }, []string{"action: Required value"}},
		"deprecated":    {func(e *eventsv1.Event) { e.DeprecatedCount = 2 }, []string{"count: Invalid value"}},
		"short series": {func(e *eventsv1.Event) { e.Series = &eventsv1.EventSeries{Count: 1} },
			[]string{"series.count: Invalid value", "series.lastObservedTime: Required value"}},
		"cluster object": {func(e *eventsv1.Event) { e.Regarding.Namespace = ""; e.Namespace = "apps" },
			[]string{"involvedObject.namespace: Invalid value"}},
	} {
		checkErrs(t, name, strategyCreate(r, mkEventV1(c.mod)), c.want...)
	}

	old := mkEventV1()
	n := old.DeepCopy()
	n.Series = &eventsv1.EventSeries{Count: 2, LastObservedTime: metav1.NewMicroTime(time.Now())}
	checkErrs(t, "series update", strategyUpdate(r, n, old))
	n.Note = "changed"
	checkErrs(t, "note update", strategyUpdate(r, n, old), "message: Invalid value")
}

func TestEventV1FieldsAndRow(t *testing.T) {
	r := groupResource(t, "events.k8s.io/v1", "events")
	e := mkEventV1()
	f := r.Strategy.Fields(e)
	for k, v := range map[string]string{"regarding.kind": "Pod", "regarding.name": "web", "regarding.namespace": "default",
		"regarding.uid": "u1", "reason": "Scheduled", "reportingController": "skiff.dev/scheduler", "type": "Normal"} {
		if f[k] != v {
			t.Errorf("field %s = %q, want %q", k, f[k], v)
		}
	}
	row := r.Strategy.Row(e)
	want := []interface{}{"2m", "Normal", "Scheduled", "pod/web", "", "skiff.dev/scheduler, skiff-1",
		"Successfully assigned default/web to node-1", "2m", int64(1), "web.1"}
	for i, w := range want {
		if row[i] != w {
			t.Errorf("cell %d (%s) = %v, want %v", i, r.Strategy.Columns[i].Name, row[i], w)
		}
	}
}
