package gate

import (
	"fmt"
	"testing"

	"github.com/podium-ml/podium/internal/spec"
)

// BenchmarkEvaluate gates 10,000 slices (the metrics package's limit) with
// a glob rule against a champion: the exact decimal arithmetic must stay
// far below the cost of a CI step.
func BenchmarkEvaluate(b *testing.B) {
	cand, champ := map[string]float64{}, map[string]float64{}
	for i := range 10000 {
		name := fmt.Sprintf("accuracy_by_region.r%05d", i)
		cand[name] = 0.9 + float64(i%100)/1000
		champ[name] = 0.9 + float64((i+7)%100)/1000
	}
	in := Input{
		Rules:     []spec.Rule{{Metric: "accuracy_by_region.*", Direction: spec.Higher, MinValue: f(0.5), Tolerance: f(0.05)}},
		Candidate: cand, Champion: champ,
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Evaluate(in); err != nil {
			b.Fatal(err)
		}
	}
}
