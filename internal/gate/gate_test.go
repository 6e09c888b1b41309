package gate

import (
	"errors"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/spec"
)

func f(v float64) *float64 { return &v }

type metrics = map[string]float64

// checkView is the part of a Check most cases assert.
type checkView struct {
	Metric string
	Passed bool
	Reason string
}

func view(checks []Check) []checkView {
	var out []checkView
	for _, c := range checks {
		out = append(out, checkView{c.Metric, c.Passed, c.Reason})
	}
	return out
}

func TestEvaluateRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		rule      spec.Rule
		candidate metrics
		champion  metrics
		want      []checkView
	}{
		// min_value / max_value, both directions.
		{
			name:      "min_value higher passes",
			rule:      spec.Rule{Metric: "accuracy", Direction: spec.Higher, MinValue: f(0.9)},
			candidate: metrics{"accuracy": 0.931},
			want:      []checkView{{"accuracy", true, "accuracy 0.931 ≥ min 0.9"}},
		},
		{
			name:      "min_value exactly at bound passes",
			rule:      spec.Rule{Metric: "accuracy", Direction: spec.Higher, MinValue: f(0.9)},
			candidate: metrics{"accuracy": 0.9},
			want:      []checkView{{"accuracy", true, "accuracy 0.9 ≥ min 0.9"}},
		},
		{
			name:      "min_value below fails",
			rule:      spec.Rule{Metric: "accuracy", Direction: spec.Higher, MinValue: f(0.9)},
			candidate: metrics{"accuracy": 0.8999},
			want:      []checkView{{"accuracy", false, "accuracy 0.8999 < min 0.9"}},
		},
		{
			name:      "max_value lower passes exactly at bound",
			rule:      spec.Rule{Metric: "latency_ms.p95", Direction: spec.Lower, MaxValue: f(50)},
			candidate: metrics{"latency_ms.p95": 50},
			want:      []checkView{{"latency_ms.p95", true, "latency_ms.p95 50 ≤ max 50"}},
		},
		{
			name:      "max_value lower fails above",
			rule:      spec.Rule{Metric: "latency_ms.p95", Direction: spec.Lower, MaxValue: f(50)},
			candidate: metrics{"latency_ms.p95": 50.5},
			want:      []checkView{{"latency_ms.p95", false, "latency_ms.p95 50.5 > max 50"}},
		},
		{
			name:      "max_value on a higher metric",
			rule:      spec.Rule{Metric: "recall", Direction: spec.Higher, MaxValue: f(0.999)},
			candidate: metrics{"recall": 1},
			want:      []checkView{{"recall", false, "recall 1 > max 0.999"}},
		},
		{
			name:      "min_value on a lower metric",
			rule:      spec.Rule{Metric: "loss", Direction: spec.Lower, MinValue: f(0)},
			candidate: metrics{"loss": -0.1},
			want:      []checkView{{"loss", false, "loss -0.1 < min 0"}},
		},
		{
			name:      "both bounds, one fails: only the failure is the reason",
			rule:      spec.Rule{Metric: "x", Direction: spec.Higher, MinValue: f(1), MaxValue: f(2)},
			candidate: metrics{"x": 3},
			want:      []checkView{{"x", false, "x 3 > max 2"}},
		},

		// min_delta.
		{
			name:      "min_delta higher passes",
			rule:      spec.Rule{Metric: "accuracy", Direction: spec.Higher, MinDelta: f(0.005)},
			candidate: metrics{"accuracy": 0.931},
			champion:  metrics{"accuracy": 0.925},
			want:      []checkView{{"accuracy", true, "accuracy 0.931 ≥ champion 0.925 + 0.005"}},
		},
		{
			// 0.930 - 0.925 is 0.0050000000000000044 in float64 but the
			// files say 0.930 and 0.925: exactly min_delta better.
			name:      "min_delta higher exactly at delta passes",
			rule:      spec.Rule{Metric: "accuracy", Direction: spec.Higher, MinDelta: f(0.005)},
			candidate: metrics{"accuracy": 0.930},
			champion:  metrics{"accuracy": 0.925},
			want:      []checkView{{"accuracy", true, "accuracy 0.93 ≥ champion 0.925 + 0.005"}},
		},
		{
			// 0.3 - 0.2 is 0.09999999999999998 in float64.
			name:      "min_delta higher exactly at delta below float64 difference passes",
			rule:      spec.Rule{Metric: "accuracy", Direction: spec.Higher, MinDelta: f(0.1)},
			candidate: metrics{"accuracy": 0.3},
			champion:  metrics{"accuracy": 0.2},
			want:      []checkView{{"accuracy", true, "accuracy 0.3 ≥ champion 0.2 + 0.1"}},
		},
		{
			name:      "min_delta higher just short fails",
			rule:      spec.Rule{Metric: "accuracy", Direction: spec.Higher, MinDelta: f(0.005)},
			candidate: metrics{"accuracy": 0.9299999},
			champion:  metrics{"accuracy": 0.925},
			want:      []checkView{{"accuracy", false, "accuracy 0.9299999 < champion 0.925 + 0.005"}},
		},
		{
			name:      "min_delta lower passes exactly at delta",
			rule:      spec.Rule{Metric: "latency_ms.p95", Direction: spec.Lower, MinDelta: f(2)},
			candidate: metrics{"latency_ms.p95": 40},
			champion:  metrics{"latency_ms.p95": 42},
			want:      []checkView{{"latency_ms.p95", true, "latency_ms.p95 40 ≤ champion 42 - 2"}},
		},
		{
			name:      "min_delta lower fails when not enough lower",
			rule:      spec.Rule{Metric: "latency_ms.p95", Direction: spec.Lower, MinDelta: f(2)},
			candidate: metrics{"latency_ms.p95": 41},
			champion:  metrics{"latency_ms.p95": 42},
			want:      []checkView{{"latency_ms.p95", false, "latency_ms.p95 41 > champion 42 - 2"}},
		},
		{
			name:      "min_delta lower fails when higher",
			rule:      spec.Rule{Metric: "loss", Direction: spec.Lower, MinDelta: f(0)},
			candidate: metrics{"loss": 0.31},
			champion:  metrics{"loss": 0.3},
			want:      []checkView{{"loss", false, "loss 0.31 > champion 0.3 - 0"}},
		},
		{
			name:      "min_delta zero higher passes on a tie",
			rule:      spec.Rule{Metric: "accuracy", Direction: spec.Higher, MinDelta: f(0)},
			candidate: metrics{"accuracy": 0.9},
			champion:  metrics{"accuracy": 0.9},
			want:      []checkView{{"accuracy", true, "accuracy 0.9 ≥ champion 0.9 + 0"}},
		},

		// min_relative.
		{
			name:      "min_relative higher exactly at fraction passes",
			rule:      spec.Rule{Metric: "accuracy", Direction: spec.Higher, MinRelative: f(0.05)},
			candidate: metrics{"accuracy": 0.84},
			champion:  metrics{"accuracy": 0.8},
			want:      []checkView{{"accuracy", true, "accuracy 0.84 ≥ champion 0.8 + 5% (0.84)"}},
		},
		{
			name:      "min_relative higher short fails",
			rule:      spec.Rule{Metric: "accuracy", Direction: spec.Higher, MinRelative: f(0.07)},
			candidate: metrics{"accuracy": 0.85},
			champion:  metrics{"accuracy": 0.8},
			want:      []checkView{{"accuracy", false, "accuracy 0.85 < champion 0.8 + 7% (0.856)"}},
		},
		{
			name:      "min_relative lower passes",
			rule:      spec.Rule{Metric: "latency_ms", Direction: spec.Lower, MinRelative: f(0.1)},
			candidate: metrics{"latency_ms": 45},
			champion:  metrics{"latency_ms": 50},
			want:      []checkView{{"latency_ms", true, "latency_ms 45 ≤ champion 50 - 10% (45)"}},
		},
		{
			name:      "min_relative lower fails",
			rule:      spec.Rule{Metric: "latency_ms", Direction: spec.Lower, MinRelative: f(0.1)},
			candidate: metrics{"latency_ms": 45.1},
			champion:  metrics{"latency_ms": 50},
			want:      []checkView{{"latency_ms", false, "latency_ms 45.1 > champion 50 - 10% (45)"}},
		},
		{
			// The fraction is of |champion|: a negative champion still
			// needs the candidate to move in the better direction.
			name:      "min_relative higher with a negative champion",
			rule:      spec.Rule{Metric: "r2", Direction: spec.Higher, MinRelative: f(0.5)},
			candidate: metrics{"r2": -0.1},
			champion:  metrics{"r2": -0.2},
			want:      []checkView{{"r2", true, "r2 -0.1 ≥ champion -0.2 + 50% (-0.1)"}},
		},

		// tolerance.
		{
			name:      "tolerance higher passes exactly at tolerance",
			rule:      spec.Rule{Metric: "accuracy_by_region.eu", Direction: spec.Higher, Tolerance: f(0.01)},
			candidate: metrics{"accuracy_by_region.eu": 0.9},
			champion:  metrics{"accuracy_by_region.eu": 0.91},
			want:      []checkView{{"accuracy_by_region.eu", true, "accuracy_by_region.eu 0.9 ≥ champion 0.91 - 0.01"}},
		},
		{
			name:      "tolerance higher fails beyond",
			rule:      spec.Rule{Metric: "accuracy", Direction: spec.Higher, Tolerance: f(0.01)},
			candidate: metrics{"accuracy": 0.899},
			champion:  metrics{"accuracy": 0.91},
			want:      []checkView{{"accuracy", false, "accuracy 0.899 < champion 0.91 - 0.01"}},
		},
		{
			name:      "tolerance lower passes exactly at tolerance",
			rule:      spec.Rule{Metric: "latency_ms.p95", Direction: spec.Lower, Tolerance: f(2)},
			candidate: metrics{"latency_ms.p95": 44},
			champion:  metrics{"latency_ms.p95": 42},
			want:      []checkView{{"latency_ms.p95", true, "latency_ms.p95 44 ≤ champion 42 + 2"}},
		},
		{
			name:      "tolerance lower fails beyond",
			rule:      spec.Rule{Metric: "latency_ms.p95", Direction: spec.Lower, Tolerance: f(2)},
			candidate: metrics{"latency_ms.p95": 44.01},
			champion:  metrics{"latency_ms.p95": 42},
			want:      []checkView{{"latency_ms.p95", false, "latency_ms.p95 44.01 > champion 42 + 2"}},
		},

		// Combinations and the unchecked change.
		{
			name:      "bound and delta both pass",
			rule:      spec.Rule{Metric: "accuracy", Direction: spec.Higher, MinValue: f(0.9), MinDelta: f(0.005)},
			candidate: metrics{"accuracy": 0.931},
			champion:  metrics{"accuracy": 0.925},
			want:      []checkView{{"accuracy", true, "accuracy 0.931 ≥ min 0.9 and ≥ champion 0.925 + 0.005"}},
		},
		{
			name:      "bound passes, delta fails",
			rule:      spec.Rule{Metric: "accuracy", Direction: spec.Higher, MinValue: f(0.9), MinDelta: f(0.005)},
			candidate: metrics{"accuracy": 0.926},
			champion:  metrics{"accuracy": 0.925},
			want:      []checkView{{"accuracy", false, "accuracy 0.926 < champion 0.925 + 0.005"}},
		},
		{
			name:      "direction only, champion present: change not checked",
			rule:      spec.Rule{Metric: "accuracy", Direction: spec.Higher},
			candidate: metrics{"accuracy": 0.5},
			champion:  metrics{"accuracy": 0.9},
			want:      []checkView{{"accuracy", true, "accuracy 0.5: change from champion 0.9 not checked"}},
		},
		{
			name:      "bound with champion and no change setting",
			rule:      spec.Rule{Metric: "accuracy", Direction: spec.Higher, MinValue: f(0.4)},
			candidate: metrics{"accuracy": 0.5},
			champion:  metrics{"accuracy": 0.9},
			want:      []checkView{{"accuracy", true, "accuracy 0.5 ≥ min 0.4; change from champion 0.9 not checked"}},
		},

		// No champion: bounds only.
		{
			name:      "no champion: delta rule passes, bound applies",
			rule:      spec.Rule{Metric: "accuracy", Direction: spec.Higher, MinValue: f(0.9), MinDelta: f(0.005)},
			candidate: metrics{"accuracy": 0.91},
			want:      []checkView{{"accuracy", true, "accuracy 0.91 ≥ min 0.9; no champion: change not checked"}},
		},
		{
			name:      "no champion: bound still fails",
			rule:      spec.Rule{Metric: "accuracy", Direction: spec.Higher, MinValue: f(0.9), MinDelta: f(0.005)},
			candidate: metrics{"accuracy": 0.89},
			want:      []checkView{{"accuracy", false, "accuracy 0.89 < min 0.9"}},
		},
		{
			name:      "no champion and no bounds",
			rule:      spec.Rule{Metric: "accuracy", Direction: spec.Lower},
			candidate: metrics{"accuracy": 0.89},
			want:      []checkView{{"accuracy", true, "accuracy 0.89: no bound set and no champion"}},
		},

		// Champion lacking the metric.
		{
			name:      "champion lacks the metric",
			rule:      spec.Rule{Metric: "f1", Direction: spec.Higher, MinDelta: f(0.01)},
			candidate: metrics{"f1": 0.8},
			champion:  metrics{"accuracy": 0.9},
			want:      []checkView{{"f1", true, "f1 0.8: the champion has no value: change not checked (first-model rule: bounds only)"}},
		},

		// Globs over slices.
		{
			name:      "glob over slices: one slice fails",
			rule:      spec.Rule{Metric: "accuracy_by_region.*", Direction: spec.Higher, Tolerance: f(0.01)},
			candidate: metrics{"accuracy": 0.93, "accuracy_by_region.us": 0.95, "accuracy_by_region.eu": 0.88},
			champion:  metrics{"accuracy_by_region.us": 0.94, "accuracy_by_region.eu": 0.9},
			want: []checkView{
				{"accuracy_by_region.eu", false, "accuracy_by_region.eu 0.88 < champion 0.9 - 0.01"},
				{"accuracy_by_region.us", true, "accuracy_by_region.us 0.95 ≥ champion 0.94 - 0.01"},
			},
		},
		{
			name:      "glob with ?",
			rule:      spec.Rule{Metric: "latency_ms.p9?", Direction: spec.Lower, MaxValue: f(100)},
			candidate: metrics{"latency_ms.p50": 10, "latency_ms.p90": 40, "latency_ms.p95": 101, "latency_ms.p999": 1},
			want: []checkView{
				{"latency_ms.p90", true, "latency_ms.p90 40 ≤ max 100"},
				{"latency_ms.p95", false, "latency_ms.p95 101 > max 100"},
			},
		},
		{
			// path.Match's * stopped at '/': a slice named eu/west escaped.
			name:      "glob star crosses slashes, not dots",
			rule:      spec.Rule{Metric: "acc.*", Direction: spec.Higher, MinValue: f(0.5)},
			candidate: metrics{"acc.eu/west": 0.4, "acc.eu.north": 0.6, "accuracy": 0.1},
			want:      []checkView{{"acc.eu/west", false, "acc.eu/west 0.4 < min 0.5"}},
		},
		{
			name:      "double star crosses dots",
			rule:      spec.Rule{Metric: "acc.**", Direction: spec.Higher, MinValue: f(0.5)},
			candidate: metrics{"acc.eu/west": 0.6, "acc.eu.north": 0.6, "accuracy": 0.1},
			want: []checkView{
				{"acc.eu.north", true, "acc.eu.north 0.6 ≥ min 0.5"},
				{"acc.eu/west", true, "acc.eu/west 0.6 ≥ min 0.5"},
			},
		},
		{
			name:      "a slice the candidate lost fails the rule",
			rule:      spec.Rule{Metric: "acc_by_region.*", Direction: spec.Higher, Tolerance: f(0.01)},
			candidate: metrics{"acc_by_region.us": 0.9},
			champion:  metrics{"acc_by_region.us": 0.9, "acc_by_region.eu": 0.8},
			want: []checkView{
				{"acc_by_region.us", true, "acc_by_region.us 0.9 ≥ champion 0.9 - 0.01"},
				{"acc_by_region.eu", false, "acc_by_region.eu missing: the champion has it (0.8) but the candidate does not (set missing: ignore on the rule to allow it)"},
			},
		},
		{
			name:      "a plain metric the candidate lost fails the rule",
			rule:      spec.Rule{Metric: "accuracy", Direction: spec.Higher},
			candidate: metrics{"f1": 0.9},
			champion:  metrics{"accuracy": 0.8},
			want: []checkView{
				{"accuracy", false, "accuracy missing: the champion has it (0.8) but the candidate does not (set missing: ignore on the rule to allow it)"},
			},
		},
		{
			name:      "missing: ignore lets a slice go",
			rule:      spec.Rule{Metric: "acc_by_region.*", Direction: spec.Higher, Tolerance: f(0.01), Missing: spec.MissingIgnore},
			candidate: metrics{"acc_by_region.us": 0.9},
			champion:  metrics{"acc_by_region.us": 0.9, "acc_by_region.eu": 0.8},
			want: []checkView{
				{"acc_by_region.us", true, "acc_by_region.us 0.9 ≥ champion 0.9 - 0.01"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := Evaluate(Input{Rules: []spec.Rule{tt.rule}, Candidate: tt.candidate, Champion: tt.champion})
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if diff := cmp.Diff(tt.want, view(res.Checks)); diff != "" {
				t.Errorf("checks (-want +got):\n%s", diff)
			}
			wantDecision := Promote
			for _, c := range tt.want {
				if !c.Passed {
					wantDecision = Reject
				}
			}
			if res.Decision != wantDecision {
				t.Errorf("decision = %q, want %q", res.Decision, wantDecision)
			}
		})
	}
}

func TestEvaluateValuesAndDeltas(t *testing.T) {
	t.Parallel()
	res, err := Evaluate(Input{
		Rules: []spec.Rule{
			{Metric: "accuracy", Direction: spec.Higher, MinDelta: f(0.005)},
			{Metric: "f1", Direction: spec.Higher, MinDelta: f(0.005)},
		},
		Candidate: metrics{"accuracy": 0.930, "f1": 0.7},
		Champion:  metrics{"accuracy": 0.925},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Check{
		{Rule: 0, Metric: "accuracy", Direction: spec.Higher, Champion: f(0.925), Candidate: f(0.93), Delta: f(0.005), Passed: true,
			Reason: "accuracy 0.93 ≥ champion 0.925 + 0.005"},
		{Rule: 1, Metric: "f1", Direction: spec.Higher, Candidate: f(0.7), Passed: true,
			Reason: "f1 0.7: the champion has no value: change not checked (first-model rule: bounds only)"},
	}
	if diff := cmp.Diff(want, res.Checks); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
	wantWarnings := []string{`the champion has no metric "f1": only its absolute bounds were checked, as for a first model`}
	if diff := cmp.Diff(wantWarnings, res.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestEvaluateIgnoredLostSlicesWarn(t *testing.T) {
	t.Parallel()
	res, err := Evaluate(Input{
		Rules:     []spec.Rule{{Metric: "acc.*", Direction: spec.Higher, Tolerance: f(0.01), Missing: spec.MissingIgnore}},
		Candidate: metrics{"acc.us": 0.9, "loss": 1, "extra.x": 2},
		Champion:  metrics{"acc.us": 0.9, "acc.fog": 0.8},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`the champion has metric "acc.fog" (rule "acc.*") but the candidate does not: not checked (missing: ignore)`}
	if diff := cmp.Diff(want, res.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"extra.x", "loss"}, res.Uncovered); diff != "" {
		t.Errorf("uncovered (-want +got):\n%s", diff)
	}
	if res.Decision != Promote {
		t.Errorf("decision = %q, want promote", res.Decision)
	}
}

// TestEvaluateMatrix runs three rules where all pass, then makes each one
// fail in turn: the decision is reject exactly when one check fails.
func TestEvaluateMatrix(t *testing.T) {
	t.Parallel()
	rules := []spec.Rule{
		{Metric: "accuracy", Direction: spec.Higher, MinValue: f(0.9), MinDelta: f(0.005)},
		{Metric: "latency_ms.p95", Direction: spec.Lower, MaxValue: f(50), Tolerance: f(2)},
		{Metric: "accuracy_by_region.*", Direction: spec.Higher, Tolerance: f(0.01)},
	}
	champion := metrics{"accuracy": 0.925, "latency_ms.p95": 40, "accuracy_by_region.eu": 0.9, "accuracy_by_region.us": 0.92}
	good := metrics{"accuracy": 0.931, "latency_ms.p95": 41, "accuracy_by_region.eu": 0.9, "accuracy_by_region.us": 0.93}
	tests := []struct {
		name     string
		change   metrics
		want     string
		failures []string
	}{
		{name: "all pass", want: Promote},
		{name: "accuracy too small a gain", change: metrics{"accuracy": 0.928}, want: Reject, failures: []string{"accuracy"}},
		{name: "accuracy under the bound", change: metrics{"accuracy": 0.89}, want: Reject, failures: []string{"accuracy"}},
		{name: "latency over the bound", change: metrics{"latency_ms.p95": 51}, want: Reject, failures: []string{"latency_ms.p95"}},
		{name: "latency beyond tolerance", change: metrics{"latency_ms.p95": 42.5}, want: Reject, failures: []string{"latency_ms.p95"}},
		{name: "one slice worse", change: metrics{"accuracy_by_region.us": 0.9}, want: Reject, failures: []string{"accuracy_by_region.us"}},
		{name: "two fail", change: metrics{"accuracy": 0.5, "accuracy_by_region.eu": 0.1}, want: Reject, failures: []string{"accuracy", "accuracy_by_region.eu"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cand := metrics{}
			for k, v := range good {
				cand[k] = v
			}
			for k, v := range tt.change {
				cand[k] = v
			}
			res, err := Evaluate(Input{Rules: rules, Candidate: cand, Champion: champion})
			if err != nil {
				t.Fatal(err)
			}
			if res.Decision != tt.want {
				t.Errorf("decision = %q, want %q", res.Decision, tt.want)
			}
			var failures []string
			for _, c := range res.Checks {
				if !c.Passed {
					failures = append(failures, c.Metric)
				}
			}
			if diff := cmp.Diff(tt.failures, failures); diff != "" {
				t.Errorf("failed checks (-want +got):\n%s", diff)
			}
			if len(res.Checks) != 4 {
				t.Errorf("got %d checks, want 4", len(res.Checks))
			}
		})
	}
}

func TestEvaluateInvalidInput(t *testing.T) {
	t.Parallel()
	accuracy := []spec.Rule{{Metric: "accuracy", Direction: spec.Higher, MinValue: f(0.9)}}
	tests := []struct {
		name       string
		in         Input
		wantErrMsg string
	}{
		{
			name:       "no rules",
			in:         Input{Candidate: metrics{"accuracy": 1}},
			wantErrMsg: "gate.rules: no rules: add at least one rule for the gate to decide on [gate]",
		},
		{
			name:       "missing candidate metric",
			in:         Input{Rules: accuracy, Candidate: metrics{"acc": 1}, SpecFile: "podium.yaml", CandidateSource: "out/run.json"},
			wantErrMsg: `podium.yaml: gate.rules[0].metric: the candidate (out/run.json) has no metric "accuracy" [gate]`,
		},
		{
			name:       "a misspelt metric gets a suggestion",
			in:         Input{Rules: accuracy, Candidate: metrics{"acuracy": 1, "f1": 0.5}},
			wantErrMsg: `gate.rules[0].metric: the candidate has no metric "accuracy" (did you mean "acuracy"?) [gate]`,
		},
		{
			name:       "missing candidate metric is never zero, even with a champion lacking it",
			in:         Input{Rules: accuracy, Candidate: metrics{}, Champion: metrics{"f1": 0.5}},
			wantErrMsg: `gate.rules[0].metric: the candidate has no metric "accuracy" [gate]`,
		},
		{
			name:       "NaN candidate",
			in:         Input{Rules: accuracy, Candidate: metrics{"accuracy": math.NaN()}},
			wantErrMsg: `gate.rules[0].metric: the candidate metric "accuracy" is NaN: write finite numbers (Python: json.dump(..., allow_nan=False)) [gate]`,
		},
		{
			name:       "+Inf candidate in a glob",
			in:         Input{Rules: []spec.Rule{{Metric: "a.*", Direction: spec.Lower}}, Candidate: metrics{"a.x": 1, "a.y": math.Inf(1)}},
			wantErrMsg: `gate.rules[0].metric: the candidate metric "a.y" is +Inf: write finite numbers (Python: json.dump(..., allow_nan=False)) [gate]`,
		},
		{
			name:       "-Inf champion",
			in:         Input{Rules: accuracy, Candidate: metrics{"accuracy": 1}, Champion: metrics{"accuracy": math.Inf(-1)}},
			wantErrMsg: `gate.rules[0].metric: champion metric "accuracy" is -Inf [gate]`,
		},
		{
			name:       "non-numeric candidate",
			in:         Input{Rules: accuracy, Candidate: metrics{}, NonNumeric: []string{"accuracy"}},
			wantErrMsg: `gate.rules[0].metric: the candidate metric "accuracy" is not a number [gate]`,
		},
		{
			name:       "glob matching a non-numeric value",
			in:         Input{Rules: []spec.Rule{{Metric: "acc.*", Direction: spec.Higher}}, Candidate: metrics{"acc.us": 1}, NonNumeric: []string{"acc.note"}},
			wantErrMsg: `gate.rules[0].metric: the candidate metric "acc.note" is not a number [gate]`,
		},
		{
			name:       "glob matching nothing",
			in:         Input{Rules: []spec.Rule{{Metric: "accuracy_by_region.*", Direction: spec.Higher}}, Candidate: metrics{"accuracy": 1}},
			wantErrMsg: `gate.rules[0].metric: "accuracy_by_region.*" matches no metric of the candidate [gate]`,
		},
		{
			name:       "bad glob",
			in:         Input{Rules: []spec.Rule{{Metric: `acc\`, Direction: spec.Higher}}, Candidate: metrics{"acc": 1}},
			wantErrMsg: `gate.rules[0].metric: bad glob "acc\\": trailing backslash: write \\ for a backslash [gate]`,
		},
		{
			name:       "bad direction",
			in:         Input{Rules: []spec.Rule{{Metric: "acc", Direction: "up"}}, Candidate: metrics{"acc": 1}},
			wantErrMsg: `gate.rules[0].direction: "up" is not one of higher, lower [gate]`,
		},
		{
			name:       "NaN threshold",
			in:         Input{Rules: []spec.Rule{{Metric: "acc", Direction: spec.Higher, Tolerance: f(math.NaN())}}, Candidate: metrics{"acc": 1}},
			wantErrMsg: `gate.rules[0].tolerance: not a finite number [gate]`,
		},
		{
			name: "every problem at once",
			in: Input{
				Rules: []spec.Rule{
					{Metric: "accuracy", Direction: spec.Higher},
					{Metric: "loss", Direction: spec.Lower},
				},
				Candidate: metrics{"loss": math.NaN()},
			},
			wantErrMsg: `gate.rules[0].metric: the candidate has no metric "accuracy" [gate]` + "\n" +
				`gate.rules[1].metric: the candidate metric "loss" is NaN: write finite numbers (Python: json.dump(..., allow_nan=False)) [gate]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := Evaluate(tt.in)
			if err == nil {
				t.Fatalf("Evaluate = %+v, want error", res)
			}
			if err.Error() != tt.wantErrMsg {
				t.Errorf("error:\n got: %s\nwant: %s", err, tt.wantErrMsg)
			}
			if !errors.Is(err, diag.ErrInvalidInput) {
				t.Errorf("error %T is not marked as invalid input", err)
			}
			if len(diag.All(err)) == 0 {
				t.Errorf("error carries no diag.Error for annotations")
			}
		})
	}
}

func TestTargets(t *testing.T) {
	t.Parallel()
	rules := []spec.Rule{
		{Metric: "accuracy"},
		{Metric: "acc.*"},
		{Metric: "missing"},
		{Metric: "lost.*", Missing: spec.MissingIgnore},
	}
	got := Targets(rules, []string{"acc.us", "accuracy", "acc.eu"}, []string{"acc.fog", "acc.us", "missing", "lost.x"})
	want := [][]string{{"accuracy"}, {"acc.eu", "acc.us", "acc.fog"}, {"missing"}, nil}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Targets (-want +got):\n%s", diff)
	}
}

func TestDeltaOverflowIsNil(t *testing.T) {
	t.Parallel()
	res, err := Evaluate(Input{
		Rules:     []spec.Rule{{Metric: "x", Direction: spec.Higher, MinDelta: f(1)}},
		Candidate: metrics{"x": math.MaxFloat64},
		Champion:  metrics{"x": -math.MaxFloat64},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Checks[0].Delta != nil || !res.Checks[0].Passed {
		t.Errorf("check = %+v, want a pass with no delta", res.Checks[0])
	}
}

// FuzzCompare evaluates a rule with the two sides one way, then swapped:
// it never panics, the delta is antisymmetric, a strict gain (min_delta or
// min_relative > 0, nonzero sides) cannot hold both ways, and with a tolerance ≥ 0 at
// least one way passes.
func FuzzCompare(f *testing.F) {
	f.Add(0.930, 0.925, 0.005, true, uint8(0))
	f.Add(0.3, 0.2, 0.1, false, uint8(0))
	f.Add(40.0, 42.0, 2.0, false, uint8(1))
	f.Add(-0.1, -0.2, 0.5, true, uint8(1))
	f.Add(0.9, 0.91, 0.01, true, uint8(2))
	f.Add(5e-324, -5e-324, 0.0, true, uint8(0))
	f.Add(math.MaxFloat64, -math.MaxFloat64, 1.0, false, uint8(2))
	f.Add(math.NaN(), 1.0, 0.1, true, uint8(0))
	f.Fuzz(func(t *testing.T, a, b, threshold float64, higher bool, kind uint8) {
		dir := spec.Lower
		if higher {
			dir = spec.Higher
		}
		rule := spec.Rule{Metric: "m", Direction: dir}
		switch kind % 3 {
		case 0:
			rule.MinDelta = &threshold
		case 1:
			rule.MinRelative = &threshold
		case 2:
			rule.Tolerance = &threshold
		}
		ab, errAB := Evaluate(Input{Rules: []spec.Rule{rule}, Candidate: metrics{"m": a}, Champion: metrics{"m": b}})
		ba, errBA := Evaluate(Input{Rules: []spec.Rule{rule}, Candidate: metrics{"m": b}, Champion: metrics{"m": a}})
		finite := nonFinite(a) == "" && nonFinite(b) == "" && nonFinite(threshold) == ""
		if !finite {
			if errAB == nil || errBA == nil {
				t.Fatalf("non-finite input accepted: a=%v b=%v threshold=%v", a, b, threshold)
			}
			return
		}
		if errAB != nil || errBA != nil {
			t.Fatalf("finite input rejected: %v / %v", errAB, errBA)
		}
		x, y := ab.Checks[0], ba.Checks[0]
		if (x.Delta == nil) != (y.Delta == nil) || (x.Delta != nil && *x.Delta != -*y.Delta) {
			t.Fatalf("delta not antisymmetric: %v vs %v", x.Delta, y.Delta)
		}
		switch {
		// A zero champion makes min_relative's margin zero: a tie at zero
		// passes both ways, as "better by r·|0|" says.
		case kind%3 == 0 && threshold > 0 && x.Passed && y.Passed,
			kind%3 == 1 && threshold > 0 && a != 0 && b != 0 && x.Passed && y.Passed:
			t.Fatalf("a strict gain held both ways: %q and %q", x.Reason, y.Reason)
		case kind%3 == 2 && threshold >= 0 && !x.Passed && !y.Passed:
			t.Fatalf("a tolerance failed both ways: %q and %q", x.Reason, y.Reason)
		}
		if x.Reason == "" || y.Reason == "" {
			t.Fatal("empty reason")
		}
	})
}
