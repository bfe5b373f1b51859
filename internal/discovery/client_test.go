package discovery

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/disk"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// TestClientGo drives the documents through client-go's discovery client
// and REST mapper, the way kubectl resolves "deploy" to apps/v1
// deployments, once with aggregated discovery and once with the legacy
// per-group-version documents.
func TestClientGo(t *testing.T) {
	srv := httptest.NewServer(New(testResources()))
	defer srv.Close()
	dc, err := discovery.NewDiscoveryClientForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	for name, client := range map[string]discovery.DiscoveryInterface{"aggregated": dc, "legacy": dc.WithLegacy()} {
		t.Run(name, func(t *testing.T) {
			groups, lists, err := client.ServerGroupsAndResources()
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, g := range groups {
				names = append(names, g.Name+"="+g.PreferredVersion.GroupVersion)
			}
			if !slices.Equal(names, []string{"=v1", "apps=apps/v1", "autoscaling=autoscaling/v2"}) {
				t.Errorf("groups = %v", names)
			}
			var resources []string
			for _, l := range lists {
				for _, r := range l.APIResources {
					resources = append(resources, l.GroupVersion+" "+r.Name+" "+r.Kind)
				}
			}
			for _, want := range []string{"apps/v1 deployments/scale Scale", "v1 pods/eviction Eviction", "autoscaling/v1 horizontalpodautoscalers HorizontalPodAutoscaler"} {
				if !slices.Contains(resources, want) {
					t.Errorf("missing %q in %v", want, resources)
				}
			}

			grs, err := restmapper.GetAPIGroupResources(client)
			if err != nil {
				t.Fatal(err)
			}
			mapper := restmapper.NewShortcutExpander(restmapper.NewDiscoveryRESTMapper(grs), client, func(string) {})
			for short, want := range map[string]schema.GroupVersionResource{
				"deploy": {Group: "apps", Version: "v1", Resource: "deployments"},
				"cm":     {Version: "v1", Resource: "configmaps"},
				"hpa":    {Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"},
				"pod":    {Version: "v1", Resource: "pods"},
			} {
				got, err := mapper.ResourceFor(schema.GroupVersionResource{Resource: short})
				if err != nil || got != want {
					t.Errorf("ResourceFor(%q) = %v, %v; want %v", short, got, err, want)
				}
			}
			m, err := mapper.RESTMapping(schema.GroupKind{Group: "apps", Kind: "Deployment"})
			if err != nil || m.Resource.Resource != "deployments" || m.Scope.Name() != "namespace" {
				t.Errorf("RESTMapping(Deployment) = %+v, %v", m, err)
			}
		})
	}
}

// TestDiskCache checks kubectl's cached discovery client, which keeps
// answers on disk and revalidates them with the ETag.
func TestDiskCache(t *testing.T) {
	var notModified atomic.Int32
	d := New(testResources())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		d.ServeHTTP(rec, r)
		if rec.Code == http.StatusNotModified {
			notModified.Add(1)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	}))
	defer srv.Close()
	dir := t.TempDir()
	for i := range 2 {
		// A zero TTL makes every client go to the server, through the
		// HTTP cache, which sends If-None-Match.
		c, err := disk.NewCachedDiscoveryClientForConfig(&rest.Config{Host: srv.URL}, dir+"/discovery", dir+"/http", time.Nanosecond)
		if err != nil {
			t.Fatal(err)
		}
		_, lists, err := c.ServerGroupsAndResources()
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if len(lists) != 4 {
			t.Errorf("round %d: %d resource lists", i, len(lists))
		}
	}
	if notModified.Load() == 0 {
		t.Errorf("the second client never got 304 Not Modified")
	}
}
