// Package apiserver is skiff's Kubernetes API server: REST over HTTPS for
// every resource in the registry, with upstream's semantics.
//
// A request passes, in order: authentication (client certificates),
// authorization, decoding (JSON, YAML or protobuf), defaulting, admission,
// validation, and the store, whose revisions are the objects'
// resourceVersions. LIST and WATCH are answered from a watch cache per
// resource. Everything kind-specific comes from the resource's
// registry.Strategy; this package holds the generic request path:
//
//	srv, err := apiserver.New(apiserver.Options{Store: st, Resources: registry.All()})
//	go srv.Run(ctx) // starts the watch caches
//	http.Serve(listener, srv)
package apiserver
