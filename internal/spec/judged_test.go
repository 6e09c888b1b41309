package spec

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoosened(t *testing.T) {
	t.Parallel()
	f := func(v float64) *float64 { return &v }
	base := []Rule{
		{Metric: "accuracy", Direction: Higher, MinValue: f(0.9), MinDelta: f(0.005)},
		{Metric: "latency_ms.p95", Direction: Lower, MaxValue: f(50), Tolerance: f(2)},
		{Metric: "acc.*", Direction: Higher, Tolerance: f(0.01)},
		{Metric: "f1", Direction: Higher, MinRelative: f(0.01)},
	}
	tests := []struct {
		name string
		head []Rule
		want []string
	}{
		{name: "same rules", head: base},
		{
			name: "stricter is not listed",
			head: []Rule{
				{Metric: "accuracy", Direction: Higher, MinValue: f(0.95), MinDelta: f(0.01)},
				{Metric: "latency_ms.p95", Direction: Lower, MaxValue: f(40), Tolerance: f(1)},
				{Metric: "acc.*", Direction: Higher, MinDelta: f(0), Tolerance: f(0.01)},
				{Metric: "f1", Direction: Higher, MinRelative: f(0.02)},
			},
		},
		{
			name: "loosened, removed and added",
			head: []Rule{
				{Metric: "accuracy", Direction: Higher, MinValue: f(0.5)},
				{Metric: "latency_ms.p95", Direction: Lower, MaxValue: f(80)},
				{Metric: "acc.*", Direction: Lower, Tolerance: f(0.05), Missing: MissingIgnore},
				{Metric: "recall", Direction: Higher},
			},
			want: []string{
				`gate rule "accuracy": min_value lowered from 0.9 to 0.5`,
				`gate rule "accuracy": min_delta 0.005 removed`,
				`gate rule "latency_ms.p95": max_value raised from 50 to 80`,
				`gate rule "latency_ms.p95": tolerance 2 removed`,
				`gate rule "acc.*": direction changed from higher to lower`,
				`gate rule "acc.*": tolerance raised from 0.01 to 0.05`,
				`gate rule "acc.*": missing metrics now ignored (missing: ignore)`,
				`gate rule "f1" removed`,
				`gate rule "recall" added`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, Loosened(base, tt.head)); diff != "" {
				t.Errorf("Loosened (-want +got):\n%s", diff)
			}
		})
	}
}
