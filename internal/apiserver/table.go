package apiserver

import (
	"bytes"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var defaultColumns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: "Name must be unique within a namespace."},
	{Name: "Created At", Type: "date", Description: "CreationTimestamp is a timestamp representing the server time when this object was created."},
}

// table renders objects as a metav1.Table with the resource's columns.
// includeObject is None, Metadata (the default) or Object.
func (h *resource) table(items []runtime.Object, lm metav1.ListInterface, includeObject, version string) (*metav1.Table, error) {
	t := &metav1.Table{ColumnDefinitions: h.res.Strategy.Columns}
	if t.ColumnDefinitions == nil {
		t.ColumnDefinitions = defaultColumns
	}
	if lm != nil {
		t.ResourceVersion = lm.GetResourceVersion()
		t.Continue = lm.GetContinue()
		t.RemainingItemCount = lm.GetRemainingItemCount()
	}
	t.Rows = make([]metav1.TableRow, 0, len(items))
	for _, item := range items {
		row := metav1.TableRow{}
		if h.res.Strategy.Row != nil {
			row.Cells = h.res.Strategy.Row(item)
		} else {
			m, _ := meta.Accessor(item)
			row.Cells = []interface{}{m.GetName(), m.GetCreationTimestamp().UTC().Format("2006-01-02T15:04:05Z")}
		}
		var embed runtime.Object
		switch includeObject {
		case "None":
		case "Object":
			embed = item
		default:
			embed = partialMeta(item)
		}
		if embed != nil {
			setKind(embed)
			var buf bytes.Buffer
			if err := h.json.Encode(embed, &buf); err != nil {
				return nil, err
			}
			row.Object.Raw = bytes.TrimSpace(buf.Bytes())
		}
		t.Rows = append(t.Rows, row)
	}
	t.SetGroupVersionKind(schema.GroupVersionKind{Group: "meta.k8s.io", Version: version, Kind: "Table"})
	if version == "" {
		t.SetGroupVersionKind(metaGV.WithKind("Table"))
	}
	return t, nil
}
