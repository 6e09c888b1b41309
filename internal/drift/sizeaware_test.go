package drift

import (
	"math"
	"testing"
)

func TestCriticalValueAndPValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		got, want float64
		tol       float64
	}{
		// c(0.05) = 1.3581; the stratified split, 426 against 143.
		{"critical 426 vs 143", CriticalValue(0.05, 426, 143), 1.3581 * math.Sqrt(569.0/(426*143)), 1e-4},
		{"critical grows as samples shrink", CriticalValue(0.05, 100, 100), 0.19206, 1e-4},
		// Kolmogorov's Q(1) = 0.27000 (scipy.stats.kstwobign.sf(1)); at
		// nₑ = 10⁶ the small-sample correction is negligible.
		{"p-value at lambda 1", KSPValue(0.001, 2e6, 2e6), 0.27000, 1e-3},
		{"p-value at lambda 1.358", KSPValue(0.001358, 2e6, 2e6), 0.0500, 1e-3},
		{"no difference", KSPValue(0, 10, 10), 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if math.Abs(tt.got-tt.want) > tt.tol {
				t.Errorf("got %.6g, want %.6g ± %g", tt.got, tt.want, tt.tol)
			}
		})
	}
}

// TestSizeAwareJudge: KS 0.119 on a stratified split of one dataset (426
// against 143 rows) is noise, under the 5 % critical value 0.131; the same
// KS on 100k rows each is a real change; and a tiny KS on millions of
// rows, significant but under the 0.1 floor, is not drift.
func TestSizeAwareJudge(t *testing.T) {
	t.Parallel()
	th := Thresholds{PSI: 0.2, KS: 0.1, LInf: 0.1, Alpha: 0.05}
	tests := []struct {
		name  string
		ks    float64
		n, m  int64
		drift bool
	}{
		{"stratified split", 0.119, 426, 143, false},
		{"large samples", 0.119, 100000, 100000, true},
		{"millions, tiny shift", 0.01, 5000000, 5000000, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ks, psi := tt.ks, 0.0
			c := Column{Name: "x", Kind: Numeric, KS: &ks, PSI: &psi, Values: Pair{tt.n, tt.m}}
			judge(&c, th)
			if c.Drifted != tt.drift {
				t.Errorf("Drifted = %v, want %v (reasons %q, critical %v)", c.Drifted, tt.drift, c.Reasons, deref(c.Critical))
			}
			if c.KSPValue == nil {
				t.Fatal("no p-value")
			}
		})
	}
}

func TestShareDistances(t *testing.T) {
	t.Parallel()
	ref := map[string]int64{"a": 50, "b": 50}
	cur := map[string]int64{"a": 30, "b": 50, "c": 20}
	linf, js := shareDistances(ref, cur, 100, 100)
	if math.Abs(linf-0.2) > 1e-12 {
		t.Errorf("L∞ = %v, want 0.2", linf)
	}
	// By hand: M = (0.4, 0.5, 0.1); JS² = ½Σp·log2(p/M) + ½Σq·log2(q/M).
	want := math.Sqrt(0.5*(0.5*math.Log2(0.5/0.4)) + 0.5*(0.3*math.Log2(0.3/0.4)+0.2*math.Log2(0.2/0.1)))
	if math.Abs(js-want) > 1e-12 {
		t.Errorf("JS = %v, want %v", js, want)
	}
	if l, j := shareDistances(ref, ref, 100, 100); l != 0 || j != 0 {
		t.Errorf("identical shares: L∞ %v, JS %v, want 0, 0", l, j)
	}
}

func TestDecideShare(t *testing.T) {
	t.Parallel()
	one, zero := 1.0, 0.0
	cols := []Column{
		{Name: "a", PSI: &one, Drifted: true, Reasons: []string{"a: PSI 1 > 0.2"}},
		{Name: "b", PSI: &zero}, {Name: "c", PSI: &zero},
	}
	if v := DecideShare(cols, nil, 0); !v.Retrain {
		t.Errorf("share 0: one drifted column should retrain")
	}
	if v := DecideShare(cols, nil, 0.5); v.Retrain {
		t.Errorf("share 0.5: 1 of 3 columns should not retrain, got %q", v.Reasons)
	}
	if v := DecideShare(cols, nil, 0.3); !v.Retrain || len(v.Reasons) != 2 {
		t.Errorf("share 0.3: 1 of 3 should retrain with the share reason, got %v", v)
	}
}
