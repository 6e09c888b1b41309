package drift

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/spec"
)

func TestDecay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		rules        []spec.Rule
		live         map[string]float64
		champion     map[string]float64
		want         []DecayCheck
		wantWarnings []string
	}{
		{
			name:     "exactly the tolerance below the champion has not decayed",
			rules:    []spec.Rule{{Metric: "accuracy", Direction: spec.Higher, Tolerance: f64(0.01)}},
			live:     map[string]float64{"accuracy": 0.92},
			champion: map[string]float64{"accuracy": 0.93},
			want: []DecayCheck{{Metric: "accuracy", Direction: spec.Higher, Live: 0.92, Champion: f64(0.93),
				Reason: "accuracy 0.92 within tolerance 0.01 of champion 0.93"}},
		},
		{
			name:     "more than the tolerance below",
			rules:    []spec.Rule{{Metric: "accuracy", Direction: spec.Higher, Tolerance: f64(0.01)}},
			live:     map[string]float64{"accuracy": 0.9199},
			champion: map[string]float64{"accuracy": 0.93},
			want: []DecayCheck{{Metric: "accuracy", Direction: spec.Higher, Live: 0.9199, Champion: f64(0.93), Decayed: true,
				Reason: "accuracy 0.9199 is below champion 0.93 by more than tolerance 0.01"}},
		},
		{
			name:     "better than the champion is fine",
			rules:    []spec.Rule{{Metric: "accuracy", Direction: spec.Higher, Tolerance: f64(0)}},
			live:     map[string]float64{"accuracy": 0.95},
			champion: map[string]float64{"accuracy": 0.93},
			want: []DecayCheck{{Metric: "accuracy", Direction: spec.Higher, Live: 0.95, Champion: f64(0.93),
				Reason: "accuracy 0.95 within tolerance 0 of champion 0.93"}},
		},
		{
			name:     "lower is better: above the champion by more than the tolerance",
			rules:    []spec.Rule{{Metric: "latency_ms.p95", Direction: spec.Lower, MaxValue: f64(50), Tolerance: f64(2)}},
			live:     map[string]float64{"latency_ms.p95": 43.5},
			champion: map[string]float64{"latency_ms.p95": 41},
			want: []DecayCheck{{Metric: "latency_ms.p95", Direction: spec.Lower, Live: 43.5, Champion: f64(41), Decayed: true,
				Reason: "latency_ms.p95 43.5 is above champion 41 by more than tolerance 2"}},
		},
		{
			name:  "bounds, no champion; a glob; min_delta does not apply",
			rules: []spec.Rule{{Metric: "acc.*", Direction: spec.Higher, MinValue: f64(0.8), MinDelta: f64(0.01), Tolerance: f64(0.01)}},
			live:  map[string]float64{"acc.b": 0.79, "acc.a": 0.8, "other": 0},
			want: []DecayCheck{
				{Metric: "acc.a", Direction: spec.Higher, Live: 0.8, Reason: "acc.a 0.8 ≥ min_value 0.8"},
				{Metric: "acc.b", Direction: spec.Higher, Live: 0.79, Decayed: true, Reason: "acc.b 0.79 < min_value 0.8"},
			},
		},
		{
			name:  "both bounds fail at once are both named",
			rules: []spec.Rule{{Metric: "x", Direction: spec.Higher, MinValue: f64(2), MaxValue: f64(1)}},
			live:  map[string]float64{"x": 1.5},
			want: []DecayCheck{{Metric: "x", Direction: spec.Higher, Live: 1.5, Decayed: true,
				Reason: "x 1.5 < min_value 2; x 1.5 > max_value 1"}},
		},
		{
			name:  "tolerance without a champion value",
			rules: []spec.Rule{{Metric: "x", Direction: spec.Higher, Tolerance: f64(1)}},
			live:  map[string]float64{"x": 1},
			want:  []DecayCheck{{Metric: "x", Direction: spec.Higher, Live: 1, Reason: "x 1: no champion value to compare with"}},
		},
		{
			name:         "a rule with nothing live",
			rules:        []spec.Rule{{Metric: "f1", Direction: spec.Higher, MinValue: f64(0.5)}, {Metric: "x", Direction: spec.Higher}},
			live:         map[string]float64{"x": 1},
			want:         []DecayCheck{{Metric: "x", Direction: spec.Higher, Live: 1, Reason: "x 1: the rule sets no bound or tolerance"}},
			wantWarnings: []string{`gate rule "f1" matches no live metric: not checked for decay`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, warnings := Decay(tt.rules, tt.live, tt.champion)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Decay() mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantWarnings, warnings); diff != "" {
				t.Errorf("Decay() warnings mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	cols := []Column{{Name: "b", Reasons: []string{"b: PSI 1 > 0.2"}}, {Name: "a"}}
	decay := []DecayCheck{{Metric: "m", Decayed: true, Reason: "m 1 < min_value 2"}, {Metric: "n", Reason: "fine"}}
	tests := []struct {
		name  string
		cols  []Column
		decay []DecayCheck
		want  Verdict
	}{
		{"nothing", nil, nil, Verdict{Reasons: []string{}}},
		{"no drift", cols[1:], decay[1:], Verdict{Reasons: []string{}}},
		{"drift and decay", cols, decay, Verdict{Retrain: true, Reasons: []string{"b: PSI 1 > 0.2", "decay: m 1 < min_value 2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, Decide(tt.cols, tt.decay)); diff != "" {
				t.Errorf("Decide() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
