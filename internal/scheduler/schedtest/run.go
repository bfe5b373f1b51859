package schedtest

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"skiff.dev/internal/scheduler/framework"
)

// Filter runs one plugin's PreFilter and Filter for pod on node, which
// holds pods, through a framework, so that a PreFilter Skip is honoured as
// in a real cycle. It returns the first status that is not a success.
func Filter(t testing.TB, p framework.Plugin, pod *corev1.Pod, node *corev1.Node, pods ...*corev1.Pod) *framework.Status {
	t.Helper()
	fw, err := framework.New([]framework.Plugin{p}, nil)
	if err != nil {
		t.Fatal(err)
	}
	state, pi := framework.NewCycleState(), framework.NewPodInfo(pod)
	if s := fw.RunPreFilter(t.Context(), state, pi); !s.IsSuccess() {
		return s
	}
	ni := framework.NewNodeInfo(node)
	for _, p := range pods {
		ni.AddPod(framework.NewPodInfo(p))
	}
	return fw.RunFilter(t.Context(), state, pi, ni)
}

// Score runs one plugin's PreScore, Score and NormalizeScore for pod over
// empty nodes and returns the final scores (all 0 when it skips).
func Score(t testing.TB, p framework.Plugin, pod *corev1.Pod, nodes ...*corev1.Node) []int64 {
	t.Helper()
	fw, err := framework.New([]framework.Plugin{p}, nil)
	if err != nil {
		t.Fatal(err)
	}
	state, pi := framework.NewCycleState(), framework.NewPodInfo(pod)
	var infos []*framework.NodeInfo
	for _, n := range nodes {
		infos = append(infos, framework.NewNodeInfo(n))
	}
	if s := fw.RunPreScore(t.Context(), state, pi, infos); !s.IsSuccess() {
		t.Fatal(s)
	}
	totals := make([]int64, len(nodes))
	if s := fw.RunScore(t.Context(), state, pi, infos, totals); !s.IsSuccess() {
		t.Fatal(s)
	}
	return totals
}

// FilterCase is a row of a plugin's Filter table: Pod on Node, which
// already runs OnNode, ends with Code and Reason (zero: success).
type FilterCase struct {
	Name   string
	Pod    *corev1.Pod
	Node   *corev1.Node
	OnNode []*corev1.Pod
	Code   framework.Code
	Reason string
}

// RunFilterCases runs every case through Filter with p and reports those
// that end otherwise.
func RunFilterCases(t *testing.T, p framework.Plugin, cases []FilterCase) {
	t.Helper()
	for _, c := range cases {
		s := Filter(t, p, c.Pod, c.Node, c.OnNode...)
		if s.Code() != c.Code || s.Message() != c.Reason {
			t.Errorf("%s: %v %q, want %v %q", c.Name, s.Code(), s.Message(), c.Code, c.Reason)
		}
	}
}

// ScoreCase is a row of a plugin's Score table: Pod over Nodes gets the
// final scores Want.
type ScoreCase struct {
	Name  string
	Pod   *corev1.Pod
	Nodes []*corev1.Node
	Want  []int64
}

// RunScoreCases runs every case through Score with p and reports those
// that score otherwise.
func RunScoreCases(t *testing.T, p framework.Plugin, cases []ScoreCase) {
	t.Helper()
	for _, c := range cases {
		if got := Score(t, p, c.Pod, c.Nodes...); !slices.Equal(got, c.Want) {
			t.Errorf("%s: %v, want %v", c.Name, got, c.Want)
		}
	}
}
