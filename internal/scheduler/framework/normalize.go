package framework

// DefaultNormalizeScore rescales scores in place so that the highest
// becomes maxScore and the others keep their proportion to it; with reverse,
// the order is flipped (maxScore - score), for plugins that count bad
// things. All-zero scores become 0, or maxScore with reverse.
func DefaultNormalizeScore(maxScore int64, reverse bool, scores []int64) {
	var highest int64
	for _, s := range scores {
		highest = max(highest, s)
	}
	for i, s := range scores {
		if highest > 0 {
			s = maxScore * s / highest
		}
		if reverse {
			s = maxScore - s
		}
		scores[i] = s
	}
}
