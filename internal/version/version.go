// Package version holds the version skiff reports: its own release and the
// Kubernetes version whose API it implements (what GET /version returns and
// what kubectl compares itself with).
//
// Build metadata is set at link time:
//
//	go build -ldflags "-X skiff.dev/internal/version.Skiff=v0.1.0 \
//	    -X skiff.dev/internal/version.GitCommit=$(git rev-parse HEAD) \
//	    -X skiff.dev/internal/version.BuildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)" ./cmd/skiff
package version

import (
	"runtime"
	"runtime/debug"

	apiversion "k8s.io/apimachinery/pkg/version"
)

// Kubernetes is the Kubernetes release whose API skiff serves.
const Kubernetes = "v1.34.4"

// The parts of Kubernetes, as /version reports them.
const (
	major = "1"
	minor = "34"
	// minCompatibilityMinor is the oldest minor release whose clients and
	// stored objects skiff accepts: one before its own, as upstream does.
	minCompatibilityMinor = "33"
)

// Set with -ldflags -X at build time.
var (
	// Skiff is skiff's own release.
	Skiff = "dev"
	// GitCommit is the commit skiff was built from; when not set at link
	// time it is read from the Go build information, if present.
	GitCommit = "unknown"
	// BuildDate is when the binary was built, in RFC 3339 form.
	BuildDate = "1970-01-01T00:00:00Z"
)

// Info is the answer to GET /version.
func Info() apiversion.Info {
	commit, tree := commitAndTree()
	return apiversion.Info{
		Major:                 major,
		Minor:                 minor,
		EmulationMajor:        major,
		EmulationMinor:        minor,
		MinCompatibilityMajor: major,
		MinCompatibilityMinor: minCompatibilityMinor,
		GitVersion:            Kubernetes + "+skiff",
		GitCommit:             commit,
		GitTreeState:          tree,
		BuildDate:             BuildDate,
		GoVersion:             runtime.Version(),
		Compiler:              runtime.Compiler,
		Platform:              runtime.GOOS + "/" + runtime.GOARCH,
	}
}

// commitAndTree returns the commit and whether the tree was clean or dirty,
// preferring GitCommit and falling back to what the Go toolchain stamped.
func commitAndTree() (commit, tree string) {
	commit = GitCommit
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return commit, ""
	}
	var revision string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			tree = "clean"
			if s.Value == "true" {
				tree = "dirty"
			}
		}
	}
	if commit == "unknown" && revision != "" {
		commit = revision
	}
	return commit, tree
}
