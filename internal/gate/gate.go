// Package gate decides whether a candidate model should replace the
// champion, by the spec's gate rules (DESIGN.md "Gate semantics"). It is
// pure: metric values in, checks and a decision out. No files, no git, no CI.
//
// Comparisons are exact in decimal: each float64 is read back as the
// shortest decimal that round-trips to it (what the metrics file and the
// spec said) and compared as a big.Rat. So a candidate exactly min_delta
// better than the champion passes, although 0.930-0.925 != 0.005 in float64.
package gate

import (
	"fmt"
	"math"
	"math/big"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/spec"
)

// Decisions.
const (
	Promote = "promote"
	Reject  = "reject"
)

// Input is what the gate decides on.
type Input struct {
	Rules []spec.Rule
	// Candidate holds the candidate's metrics by flattened name.
	Candidate map[string]float64
	// NonNumeric names candidate metrics whose values are not numbers, so a
	// rule that needs one is reported as such rather than as missing.
	NonNumeric []string
	// Champion holds the champion's metrics; nil when there is no champion
	// (only the absolute bounds then apply).
	Champion map[string]float64

	// SpecFile and CandidateSource name the spec and the candidate's
	// metrics in error messages; both are optional.
	SpecFile        string
	CandidateSource string
}

// Check is one rule applied to one metric.
type Check struct {
	Rule      int // index into Input.Rules
	Metric    string
	Direction spec.Direction
	// Champion is nil when there is no champion or it lacks the metric.
	Champion  *float64
	Candidate float64
	// Delta is candidate - champion (exact in decimal, then rounded); nil
	// when Champion is nil.
	Delta  *float64
	Passed bool
	// Reason says in one line why the check passed or failed, e.g.
	// "accuracy 0.931 ≥ champion 0.925 + 0.005".
	Reason string
}

// Result is the gate's decision.
type Result struct {
	Decision string // Promote or Reject
	Checks   []Check
	Warnings []string
}

// Evaluate applies every rule to every candidate metric it names. Invalid
// input (a malformed rule, a metric a rule needs that the candidate lacks,
// a non-numeric, NaN or infinite value) is returned as a diag.List naming
// each problem; the CLI maps it to exit code 2.
func Evaluate(in Input) (*Result, error) {
	var errs diag.List
	problem := func(field, format string, args ...any) {
		errs = append(errs, &diag.Error{File: in.SpecFile, Field: field, Msg: fmt.Sprintf(format, args...), Kind: "gate"})
	}
	if len(in.Rules) == 0 {
		problem("gate.rules", "no rules: add at least one rule for the gate to decide on")
		return nil, errs
	}

	names := make([]string, 0, len(in.Candidate))
	for name := range in.Candidate {
		names = append(names, name)
	}
	sort.Strings(names)
	nonNumeric := slices.Clone(in.NonNumeric)
	sort.Strings(nonNumeric)

	candidate := "the candidate"
	if in.CandidateSource != "" {
		candidate = "the candidate (" + in.CandidateSource + ")"
	}

	res := &Result{Decision: Promote}
	for i, r := range in.Rules {
		field := fmt.Sprintf("gate.rules[%d]", i)
		if msg := checkRule(r); msg != "" {
			field, msg, _ := strings.Cut(msg, ": ")
			problem(fmt.Sprintf("gate.rules[%d].%s", i, field), "%s", msg)
			continue
		}
		matched := match(r.Metric, names)
		for _, name := range match(r.Metric, nonNumeric) {
			problem(field+".metric", "%s metric %q is not a number", candidate, name)
		}
		if len(matched) == 0 {
			switch {
			case len(match(r.Metric, nonNumeric)) > 0:
				// Already reported as not a number.
			case isGlob(r.Metric):
				problem(field+".metric", "%q matches no metric of %s", r.Metric, candidate)
			default:
				msg := fmt.Sprintf("%s has no metric %q", candidate, r.Metric)
				if s := spec.Suggest(r.Metric, names); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				problem(field+".metric", "%s", msg)
			}
			continue
		}
		for _, name := range matched {
			c := in.Candidate[name]
			if msg := nonFinite(c); msg != "" {
				problem(field+".metric", "%s metric %q is %s: write finite numbers (Python: json.dump(..., allow_nan=False))", candidate, name, msg)
				continue
			}
			var champ *float64
			if in.Champion != nil {
				if v, ok := in.Champion[name]; ok {
					if msg := nonFinite(v); msg != "" {
						problem(field+".metric", "champion metric %q is %s", name, msg)
						continue
					}
					champ = &v
				}
			}
			ch := evaluate(r, name, c, champ, in.Champion != nil)
			ch.Rule = i
			res.Checks = append(res.Checks, ch)
			if in.Champion != nil && champ == nil && hasChange(r) {
				res.Warnings = append(res.Warnings, fmt.Sprintf("the champion has no metric %q: its change was not checked", name))
			}
		}
		// A slice the champion had but the candidate lost would otherwise
		// vanish from the comparison without a word.
		if isGlob(r.Metric) && in.Champion != nil {
			for _, name := range sortedKeys(in.Champion) {
				if _, ok := in.Candidate[name]; ok {
					continue
				}
				if ok, _ := path.Match(r.Metric, name); ok {
					res.Warnings = append(res.Warnings, fmt.Sprintf("the champion has metric %q (matched by %q) but the candidate does not: it was not checked", name, r.Metric))
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	for _, ch := range res.Checks {
		if !ch.Passed {
			res.Decision = Reject
			break
		}
	}
	res.Warnings = dedupe(res.Warnings)
	return res, nil
}

// Targets returns, for each rule, the candidate metric names it applies to,
// in the order Evaluate checks them. Readers of compare.json use it to tie
// each check back to the rule that produced it.
func Targets(rules []spec.Rule, candidate []string) [][]string {
	names := slices.Clone(candidate)
	sort.Strings(names)
	out := make([][]string, len(rules))
	for i, r := range rules {
		out[i] = match(r.Metric, names)
	}
	return out
}

// checkRule returns "field: message" for a malformed rule, or "".
func checkRule(r spec.Rule) string {
	switch {
	case r.Metric == "":
		return "metric: empty metric name"
	case r.Direction != spec.Higher && r.Direction != spec.Lower:
		return fmt.Sprintf("direction: %q is not one of higher, lower", r.Direction)
	}
	if _, err := path.Match(r.Metric, ""); err != nil {
		return fmt.Sprintf("metric: bad glob %q: %v", r.Metric, err)
	}
	for _, b := range []struct {
		name string
		v    *float64
	}{{"min_value", r.MinValue}, {"max_value", r.MaxValue}, {"min_delta", r.MinDelta}, {"min_relative", r.MinRelative}, {"tolerance", r.Tolerance}} {
		if b.v != nil && nonFinite(*b.v) != "" {
			return b.name + ": not a finite number"
		}
	}
	return ""
}

func isGlob(pattern string) bool { return strings.ContainsAny(pattern, `*?[\`) }

// match returns the sorted names that pattern selects: itself when it is a
// plain name, its path.Match matches when it is a glob.
func match(pattern string, sortedNames []string) []string {
	if !isGlob(pattern) {
		if _, ok := slices.BinarySearch(sortedNames, pattern); ok {
			return []string{pattern}
		}
		return nil
	}
	var out []string
	for _, name := range sortedNames {
		if ok, _ := path.Match(pattern, name); ok {
			out = append(out, name)
		}
	}
	return out
}

func hasChange(r spec.Rule) bool {
	return r.MinDelta != nil || r.MinRelative != nil || r.Tolerance != nil
}

// condition is one comparison of a check, as the words that explain it.
type condition struct {
	ok   bool
	text string // e.g. "≥ champion 0.925 + 0.005" or "< min 0.9"
}

// evaluate runs one rule on one metric whose values are finite.
func evaluate(r spec.Rule, name string, c float64, champ *float64, haveChampion bool) Check {
	check := Check{Metric: name, Direction: r.Direction, Candidate: c, Champion: champ}
	cr := rat(c)
	var conds []condition
	var notes []string

	if r.MinValue != nil {
		ok := cr.Cmp(rat(*r.MinValue)) >= 0
		conds = append(conds, condition{ok, cmpText(ok, "≥", "<") + " min " + num(*r.MinValue)})
	}
	if r.MaxValue != nil {
		ok := cr.Cmp(rat(*r.MaxValue)) <= 0
		conds = append(conds, condition{ok, cmpText(ok, "≤", ">") + " max " + num(*r.MaxValue)})
	}

	switch {
	case champ != nil:
		chr := rat(*champ)
		delta := new(big.Rat).Sub(cr, chr)
		if d, _ := delta.Float64(); !math.IsInf(d, 0) {
			check.Delta = &d
		}
		// gain is how much better the candidate is, in the rule's direction.
		gain := delta
		if r.Direction == spec.Lower {
			gain = new(big.Rat).Neg(delta)
		}
		better, worse := "≥", "<"
		sign := 1
		if r.Direction == spec.Lower {
			better, worse = "≤", ">"
			sign = -1
		}
		if r.MinDelta != nil {
			ok := gain.Cmp(rat(*r.MinDelta)) >= 0
			conds = append(conds, condition{ok, fmt.Sprintf("%s champion %s %s", cmpText(ok, better, worse), num(*champ), offset(sign, *r.MinDelta))})
		}
		if r.MinRelative != nil {
			need := new(big.Rat).Mul(rat(*r.MinRelative), new(big.Rat).Abs(chr))
			ok := gain.Cmp(need) >= 0
			threshold := new(big.Rat).Add(chr, need)
			if r.Direction == spec.Lower {
				threshold.Sub(chr, need)
			}
			t, _ := threshold.Float64()
			conds = append(conds, condition{ok, fmt.Sprintf("%s champion %s %s (%s)", cmpText(ok, better, worse), num(*champ), offset(sign, percent(*r.MinRelative))+"%", num(t))})
		}
		if r.Tolerance != nil {
			// Worse by at most the tolerance: gain ≥ -tolerance.
			ok := gain.Cmp(new(big.Rat).Neg(rat(*r.Tolerance))) >= 0
			conds = append(conds, condition{ok, fmt.Sprintf("%s champion %s %s", cmpText(ok, better, worse), num(*champ), offset(-sign, *r.Tolerance))})
		}
		if !hasChange(r) {
			notes = append(notes, "change from champion "+num(*champ)+" not checked")
		}
	case haveChampion && hasChange(r):
		notes = append(notes, "the champion has no value: change not checked")
	case hasChange(r):
		notes = append(notes, "no champion: change not checked")
	}

	check.Passed = true
	var failed, all []string
	for _, cd := range conds {
		all = append(all, cd.text)
		if !cd.ok {
			check.Passed = false
			failed = append(failed, cd.text)
		}
	}
	head := name + " " + num(c)
	switch {
	case !check.Passed:
		check.Reason = head + " " + strings.Join(failed, " and ")
	case len(all) > 0:
		check.Reason = head + " " + strings.Join(all, " and ")
		if len(notes) > 0 {
			check.Reason += "; " + strings.Join(notes, "; ")
		}
	case len(notes) > 0:
		check.Reason = head + ": " + strings.Join(notes, "; ")
	default:
		check.Reason = head + ": no bound set and no champion"
	}
	return check
}

func cmpText(ok bool, pass, fail string) string {
	if ok {
		return pass
	}
	return fail
}

// offset renders "+ 0.005" or "- 0.005": sign*v as an operation on the
// champion's value.
func offset(sign int, v float64) string {
	if (sign < 0) != (v < 0) {
		return "- " + num(math.Abs(v))
	}
	return "+ " + num(math.Abs(v))
}

// percent is 100*v, exact in decimal (0.07*100 is 7.000000000000001 in
// float64).
func percent(v float64) float64 {
	p, _ := new(big.Rat).Mul(rat(v), big.NewRat(100, 1)).Float64()
	return p
}

// num renders a value as the shortest decimal that reads back as it, so a
// reason shows the numbers the files hold.
func num(v float64) string {
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// rat is v as the exact value of its shortest decimal representation.
func rat(v float64) *big.Rat {
	r, ok := new(big.Rat).SetString(num(v))
	if !ok {
		// Unreachable: callers pass only finite values, whose shortest
		// representation always parses.
		panic("gate: not a finite number: " + num(v))
	}
	return r
}

func nonFinite(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return ""
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
