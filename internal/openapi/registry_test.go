package openapi

import (
	"net/http"
	"testing"

	"k8s.io/client-go/kubernetes/scheme"

	"skiff.dev/internal/registry"
)

// TestRegistry builds and serves the documents of every resource skiff
// serves: each kind must have a Go type and every document must encode.
func TestRegistry(t *testing.T) {
	o, err := New(registry.All())
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := fetch(t, o, "/openapi/v3", ""); res.StatusCode != http.StatusOK {
		t.Fatalf("index: %d", res.StatusCode)
	}
	for key := range o.routes {
		if res, _ := fetch(t, o, "/openapi/v3/"+key, "application/json"); res.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", key, res.StatusCode)
		}
	}
	if res, _ := fetch(t, o, "/openapi/v2", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"); res.StatusCode != http.StatusOK {
		t.Errorf("v2: %d", res.StatusCode)
	}
}

// BenchmarkNew measures what a server start pays: laying out the paths.
func BenchmarkNew(b *testing.B) {
	resources := registry.All()
	for b.Loop() {
		if _, err := New(resources); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkV3 measures the first request of the v3 index: every
// document generated and encoded.
func BenchmarkV3(b *testing.B) {
	resources := registry.All()
	mergeSchema(scheme.Scheme) // client-go parses its merge schema once per process
	for b.Loop() {
		o, err := New(resources)
		if err != nil {
			b.Fatal(err)
		}
		if res, _ := fetch(b, o, "/openapi/v3", ""); res.StatusCode != http.StatusOK {
			b.Fatal(res.StatusCode)
		}
	}
}
