// Package discovery serves the API discovery documents that clients read
// to learn which groups, versions and resources the server offers.
//
// Two formats exist, chosen by the request's Accept header:
//
//   - legacy discovery: /api (APIVersions), /apis (APIGroupList),
//     /apis/<group> (APIGroup) and one APIResourceList per group-version at
//     /api/v1 and /apis/<group>/<version>. A client needs one request per
//     group-version.
//   - aggregated discovery (apidiscovery.k8s.io v2, and v2beta1 for older
//     clients): /api and /apis answer with an APIGroupDiscoveryList that
//     holds every resource in one document. client-go asks for it first.
//
// Every document is built once, in New, from the registry's resource list;
// serving is a map lookup. Aggregated documents carry an ETag so clients
// can revalidate with If-None-Match.
//
//	d := discovery.New(registry.All())
//	if d.Handles(r.URL.Path) {
//		d.ServeHTTP(w, r)
//	}
package discovery
