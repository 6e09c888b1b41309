package weather

import (
	"math"
	"slices"
)

// Accuracy is the fraction of predictions equal to the truth.
func Accuracy(truth, pred []string) float64 {
	if len(truth) == 0 {
		return 0
	}
	right := 0
	for i := range truth {
		if truth[i] == pred[i] {
			right++
		}
	}
	return float64(right) / float64(len(truth))
}

// MacroF1 is the unweighted mean of each class's F1 score, over the
// classes given. A class never predicted and never present scores 0, so
// ignoring rare classes (fog, drizzle) shows.
func MacroF1(truth, pred, classes []string) float64 {
	if len(classes) == 0 {
		return 0
	}
	sum := 0.0
	for _, c := range classes {
		var tp, fp, fn float64
		for i := range truth {
			switch {
			case pred[i] == c && truth[i] == c:
				tp++
			case pred[i] == c:
				fp++
			case truth[i] == c:
				fn++
			}
		}
		if tp > 0 {
			sum += 2 * tp / (2*tp + fp + fn)
		}
	}
	return sum / float64(len(classes))
}

// LogLoss is the mean negative log-likelihood of the true classes, with
// probabilities clipped to [1e-15, 1] so a confident mistake is finite.
func LogLoss(truth []int, probs [][]float64) float64 {
	if len(truth) == 0 {
		return 0
	}
	sum := 0.0
	for i, y := range truth {
		sum -= math.Log(max(probs[i][y], 1e-15))
	}
	return sum / float64(len(truth))
}

// Percentile returns the p-th percentile (0-100) of xs by the
// nearest-rank method.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}
