// Package lintcheck holds repository-wide checks that run as ordinary Go
// tests, so `go test ./...` and `make lint` both enforce them. It has no
// code of its own; see its tests:
//
//   - every Go package in the module has a package doc comment.
package lintcheck
