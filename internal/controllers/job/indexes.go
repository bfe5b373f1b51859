package job

import (
	"slices"
	"strconv"
	"strings"
)

// indexSet is a set of completion indexes, as status.completedIndexes and
// status.failedIndexes write it: ascending ranges, "0-2,4".
type indexSet map[int]bool

// parseIndexes reads a range list, ignoring what is malformed or not below
// limit.
func parseIndexes(s string, limit int) indexSet {
	out := indexSet{}
	for part := range strings.SplitSeq(s, ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		last := first
		if isRange {
			if last, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		for i := first; i <= last && i < limit; i++ {
			if i >= 0 {
				out[i] = true
			}
		}
	}
	return out
}

// String writes the set as ascending ranges; runs of two or more become
// "a-b".
func (s indexSet) String() string {
	keys := make([]int, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i := 0; i < len(keys); {
		j := i
		for j+1 < len(keys) && keys[j+1] == keys[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(keys[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(keys[j]))
		}
		i = j + 1
	}
	return b.String()
}
