package framework_test

import (
	"testing"

	"skiff.dev/internal/scheduler/framework"
	st "skiff.dev/internal/scheduler/schedtest"
)

func statuses(reasons ...[]string) map[string]*framework.Status {
	m := map[string]*framework.Status{}
	for i, r := range reasons {
		m[string(rune('a'+i))] = framework.NewStatus(framework.Unschedulable, r...)
	}
	return m
}

func TestFitErrorMessage(t *testing.T) {
	one := func(r string) []string { return []string{r} }
	const notHelpful = "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
	for _, c := range []struct {
		name string
		err  framework.FitError
		want string
	}{{
		name: "reasons counted and sorted as strings, then the preemption part",
		err: framework.FitError{Pod: st.MakePod().Obj(), NumAllNodes: 3, Diagnosis: framework.Diagnosis{NodeToStatus: statuses(
			one("node(s) had untolerated taint(s)"), one("Insufficient cpu"), one("node(s) had untolerated taint(s)")),
			PreemptionMsg: notHelpful}},
		want: "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint(s). " + notHelpful,
	}, {
		name: "a node with several reasons counts each",
		err: framework.FitError{Pod: st.MakePod().Obj(), NumAllNodes: 2, Diagnosis: framework.Diagnosis{NodeToStatus: statuses(
			[]string{"Insufficient cpu", "Insufficient memory"}, one("Insufficient memory"))}},
		want: "0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory.",
	}, {
		name: "counts sort as strings: 10 before 2",
		err: func() framework.FitError {
			var rs [][]string
			for range 10 {
				rs = append(rs, one("Too many pods"))
			}
			rs = append(rs, one("Insufficient cpu"), one("Insufficient cpu"))
			return framework.FitError{Pod: st.MakePod().Obj(), NumAllNodes: 12, Diagnosis: framework.Diagnosis{NodeToStatus: statuses(rs...)}}
		}(),
		want: "0/12 nodes are available: 10 Too many pods, 2 Insufficient cpu.",
	}, {
		name: "a PreFilter rejection stands for all nodes",
		err: framework.FitError{Pod: st.MakePod().Obj(), NumAllNodes: 3, Diagnosis: framework.Diagnosis{
			PreFilterStatus: framework.NewStatus(framework.UnschedulableAndUnresolvable, "pod has unbound immediate PersistentVolumeClaims"),
			PreemptionMsg:   notHelpful}},
		want: "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. " + notHelpful,
	}} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

func TestDefaultNormalizeScore(t *testing.T) {
	for _, c := range []struct {
		in      []int64
		reverse bool
		want    []int64
	}{
		{[]int64{0, 5, 10}, false, []int64{0, 50, 100}},
		{[]int64{0, 5, 10}, true, []int64{100, 50, 0}},
		{[]int64{0, 0}, false, []int64{0, 0}},
		{[]int64{0, 0}, true, []int64{100, 100}},
		{[]int64{3, 1}, false, []int64{100, 33}},
	} {
		got := append([]int64(nil), c.in...)
		framework.DefaultNormalizeScore(framework.MaxNodeScore, c.reverse, got)
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("normalize %v reverse=%v = %v, want %v", c.in, c.reverse, got, c.want)
				break
			}
		}
	}
}
