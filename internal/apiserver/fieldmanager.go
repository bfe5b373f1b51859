package apiserver

import (
	"fmt"
	"net/http"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"skiff.dev/internal/registry"
)

// typeConverter knows the schemas of the built-in types, for server-side
// apply. Building it parses a large schema, so it is built once, on first use.
var typeConverter = sync.OnceValue(func() managedfields.TypeConverter {
	return applyconfigurations.NewTypeConverter(scheme)
})

// fieldManagers track managedFields for the main resource and the status
// subresource of one resource.
type fieldManagers struct {
	res    registry.Resource
	once   sync.Once
	main   *managedfields.FieldManager
	status *managedfields.FieldManager
	err    error
}

func (f *fieldManagers) get(subresource string) (*managedfields.FieldManager, error) {
	f.once.Do(func() {
		tc := typeConverter()
		def := defaulter{f.res}
		hub := f.res.Kind.GroupVersion()
		statusOnly := fieldpath.NewSet(fieldpath.MakePathOrDie("status"))
		specOnly := fieldpath.NewSet(fieldpath.MakePathOrDie("spec"))
		var mainReset, statusReset map[fieldpath.APIVersion]fieldpath.Filter
		if f.res.Strategy.HasStatus {
			v := fieldpath.APIVersion(hub.String())
			mainReset = map[fieldpath.APIVersion]fieldpath.Filter{v: fieldpath.NewExcludeSetFilter(statusOnly)}
			statusReset = map[fieldpath.APIVersion]fieldpath.Filter{v: fieldpath.NewExcludeSetFilter(specOnly)}
		}
		f.main, f.err = managedfields.NewDefaultFieldManager(tc, scheme, def, scheme, f.res.Kind, hub, "", mainReset)
		if f.err == nil {
			f.status, f.err = managedfields.NewDefaultFieldManager(tc, scheme, def, scheme, f.res.Kind, hub, "status", statusReset)
		}
		if f.err != nil {
			f.err = fmt.Errorf("apiserver: field manager for %s: %w", f.res.Name, f.err)
		}
	})
	if f.err != nil {
		return nil, f.err
	}
	if subresource == "status" {
		return f.status, nil
	}
	return f.main, nil
}

// defaulter applies a resource's defaults, for the field manager.
type defaulter struct{ res registry.Resource }

func (d defaulter) Default(obj runtime.Object) {
	if d.res.Strategy.Default != nil {
		d.res.Strategy.Default(obj)
	}
}

// managerName is the field manager of a request: the fieldManager
// parameter, or the client's program name as upstream derives it from the
// User-Agent.
func managerName(r *http.Request) string {
	if m := r.URL.Query().Get("fieldManager"); m != "" {
		return m
	}
	ua := r.Header.Get("User-Agent")
	if i := strings.Index(ua, "/"); i >= 0 {
		ua = ua[:i]
	}
	if ua == "" {
		return "unknown"
	}
	if len(ua) > 128 {
		ua = ua[:128]
	}
	return ua
}
