package gate

import (
	"strings"

	"github.com/podium-ml/podium/internal/gate/glob"
	"github.com/podium-ml/podium/internal/spec"
)

// Describe renders a rule in words for a table: the better direction, the
// bounds, and the change it allows from the champion, e.g.
// "higher · ≥ 0.9 · Δ ≥ +0.005". compare stores it with each check, so
// readers of compare.json show the rule without the spec.
func Describe(r spec.Rule) string {
	parts := []string{string(r.Direction)}
	if r.MinValue != nil {
		parts = append(parts, "≥ "+num(*r.MinValue))
	}
	if r.MaxValue != nil {
		parts = append(parts, "≤ "+num(*r.MaxValue))
	}
	better, sign := "≥ ", 1.0
	if r.Direction == spec.Lower {
		better, sign = "≤ ", -1
	}
	if r.MinDelta != nil {
		parts = append(parts, "Δ "+better+signedNum(sign**r.MinDelta, ""))
	}
	if r.MinRelative != nil {
		parts = append(parts, "Δ "+better+signedNum(sign*percent(*r.MinRelative), "%"))
	}
	if r.Tolerance != nil {
		parts = append(parts, "Δ "+better+signedNum(-sign**r.Tolerance, ""))
	}
	return strings.Join(parts, " · ")
}

// signedNum is a rule's allowed change: "+0.005", "-2"; a zero has no
// sign ("Δ ≥ 0": no worse than the champion, "±0" would read as a range).
func signedNum(v float64, unit string) string {
	switch {
	case v > 0:
		return "+" + num(v) + unit
	case v < 0:
		return num(v) + unit
	}
	return "0" + unit
}

// Matching returns the names pattern (a rule's metric: a name or a glob)
// selects, sorted; nil for a malformed pattern. Every reader of a rule
// (compare, drift's decay check) matches metrics through it.
func Matching(pattern string, names []string) []string {
	pat, err := glob.Compile(pattern)
	if err != nil {
		return nil
	}
	return match(pat, sortedCopy(names))
}
