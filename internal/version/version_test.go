package version

import (
	"strings"
	"testing"

	utilversion "k8s.io/apimachinery/pkg/util/version"
)

func TestInfo(t *testing.T) {
	info := Info()
	if info.Major != "1" || info.Minor != "34" {
		t.Errorf("major.minor %s.%s, want 1.34", info.Major, info.Minor)
	}
	if info.GitVersion != "v1.34.4+skiff" {
		t.Errorf("gitVersion %q", info.GitVersion)
	}
	v, err := utilversion.ParseSemantic(info.GitVersion)
	if err != nil {
		t.Fatalf("gitVersion is not semantic: %v", err)
	}
	if v.Major() != 1 || v.Minor() != 34 || v.Patch() != 4 {
		t.Errorf("parsed %v", v)
	}
	if !strings.HasPrefix(info.GoVersion, "go") || !strings.Contains(info.Platform, "/") {
		t.Errorf("go %q platform %q", info.GoVersion, info.Platform)
	}
	if info.BuildDate == "" || info.GitCommit == "" {
		t.Error("build date and commit must not be empty")
	}
	if !strings.HasPrefix(Kubernetes, "v"+info.Major+"."+info.Minor+".") {
		t.Errorf("Kubernetes %q disagrees with %s.%s", Kubernetes, info.Major, info.Minor)
	}
}
