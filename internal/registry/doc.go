// Package registry lists every API resource skiff serves and, for each one,
// the strategy that makes it behave like upstream Kubernetes: defaults,
// validation, the spec/status split, immutable fields, table columns, field
// selectors and generation rules.
//
// The API server is generic: it knows how to store, list, watch and patch any
// object, and asks the Resource entry for everything that differs between
// kinds. Adding a resource is one entry in All plus its strategy.
package registry
