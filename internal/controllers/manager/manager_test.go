package manager

import (
	"context"
	"strings"
	"testing"

	"skiff.dev/internal/controllers/ctrl"
)

func entries(names ...string) []Entry {
	var out []Entry
	for _, n := range names {
		out = append(out, Entry{Name: n, New: func(*ctrl.Context) (ctrl.Controller, error) { return nil, nil }})
	}
	return out
}

func TestEnabled(t *testing.T) {
	loops := entries("a", "b", "c")
	cases := []struct {
		enabled []string
		want    string // the enabled loops, in order
	}{
		{nil, "abc"},
		{[]string{"*"}, "abc"},
		{[]string{"a"}, "a"},
		{[]string{"a", "c"}, "ac"},
		{[]string{"*", "-b"}, "ac"},
		{[]string{"-b", "*"}, "ac"},
		{[]string{"-b"}, ""}, // no "*": only what is named
		{[]string{"*", "-a", "-c"}, "b"},
		// The first mention of a loop decides, as upstream's.
		{[]string{"a", "-a"}, "a"},
		{[]string{"-a", "a", "*"}, "bc"},
	}
	for _, c := range cases {
		o := Options{Loops: loops, Enabled: c.enabled}
		var got strings.Builder
		for _, e := range loops {
			if o.enabled(e.Name) {
				got.WriteString(e.Name)
			}
		}
		if got.String() != c.want {
			t.Errorf("Enabled %q: runs %q, want %q", c.enabled, got.String(), c.want)
		}
	}
}

func TestValidate(t *testing.T) {
	loops := entries("a", "b", "c")
	for _, ok := range [][]string{nil, {"*"}, {"a"}, {"*", "-b"}, {"-a", "c"}} {
		if err := (Options{Loops: loops, Enabled: ok}).Validate(); err != nil {
			t.Errorf("Enabled %q: %v", ok, err)
		}
	}
	for _, c := range []struct {
		enabled []string
		name    string
	}{
		{[]string{"x"}, "x"},
		{[]string{"*", "-x"}, "x"},
		{[]string{"a", "bee"}, "bee"},
	} {
		err := (Options{Loops: loops, Enabled: c.enabled}).Validate()
		if err == nil {
			t.Errorf("Enabled %q: no error", c.enabled)
			continue
		}
		want := `unknown controller "` + c.name + `"; known: a, b, c`
		if err.Error() != want {
			t.Errorf("Enabled %q: error %q, want %q", c.enabled, err, want)
		}
	}
}

func TestRunRejectsUnknownLoop(t *testing.T) {
	// Validation comes first: no API server is needed to fail.
	err := Run(context.Background(), Options{Loops: entries("a"), Enabled: []string{"nope"}})
	if err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("Run = %v, want the unknown controller error", err)
	}
}
