// Package gate decides whether a candidate model should replace the
// champion, by the spec's gate rules (docs/gate.md). It is
// pure: metric values in, checks and a decision out. No files, no git, no CI.
//
// Comparisons are exact in decimal: each float64 is read back as the
// shortest decimal that round-trips to it (what the metrics file and the
// spec said) and compared as a big.Rat. So a candidate exactly min_delta
// better than the champion passes, although 0.930-0.925 != 0.005 in float64.
package gate

import (
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/gate/glob"
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
	Champion *float64
	// Candidate is nil when the candidate lacks a metric the champion has
	// (the check then fails, unless the rule says missing: ignore).
	Candidate *float64
	// Delta is candidate - champion (exact in decimal, then rounded); nil
	// when Champion is nil.
	Delta  *float64
	Passed bool
	// Missing is true when the candidate lacks the metric.
	Missing bool
	// Reason says in one line why the check passed or failed, e.g.
	// "accuracy 0.931 ≥ champion 0.925 + 0.005".
	Reason string
}

// Result is the gate's decision.
type Result struct {
	Decision string // Promote or Reject
	Checks   []Check
	Warnings []string
	// Uncovered names the candidate's metrics no rule covers, sorted: they
	// decide nothing, and the report says so.
	Uncovered []string
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

	champNames := slices.Sorted(maps.Keys(in.Champion))
	covered := map[string]bool{}
	res := &Result{Decision: Promote}
	for i, r := range in.Rules {
		field := fmt.Sprintf("gate.rules[%d]", i)
		if msg := checkRule(r); msg != "" {
			field, msg, _ := strings.Cut(msg, ": ")
			problem(fmt.Sprintf("gate.rules[%d].%s", i, field), "%s", msg)
			continue
		}
		pat := glob.MustCompile(r.Metric)
		matched := match(pat, names)
		badValue := match(pat, nonNumeric)
		for _, name := range badValue {
			problem(field+".metric", "%s metric %q is not a number", candidate, name)
		}
		// Metrics the champion has that the candidate lacks: a slice the
		// candidate dropped must not vanish from the comparison.
		var lost []string
		for _, name := range match(pat, champNames) {
			if _, ok := in.Candidate[name]; !ok && !slices.Contains(badValue, name) {
				lost = append(lost, name)
			}
		}
		if len(matched) == 0 && len(lost) == 0 {
			switch {
			case len(badValue) > 0:
				// Already reported as not a number.
			case r.Missing == spec.MissingIgnore:
				res.Warnings = append(res.Warnings, fmt.Sprintf("rule %q matches no metric of the candidate or the champion: not checked (missing: ignore)", r.Metric))
			case pat.IsGlob():
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
			covered[name] = true
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
				res.Warnings = append(res.Warnings, fmt.Sprintf("the champion has no metric %q: only its absolute bounds were checked, as for a first model", name))
			}
		}
		for _, name := range lost {
			if r.Missing == spec.MissingIgnore {
				res.Warnings = append(res.Warnings, fmt.Sprintf("the champion has metric %q (rule %q) but the candidate does not: not checked (missing: ignore)", name, r.Metric))
				continue
			}
			v := in.Champion[name]
			res.Checks = append(res.Checks, Check{
				Rule: i, Metric: name, Direction: r.Direction, Champion: &v, Missing: true,
				Reason: fmt.Sprintf("%s missing: the champion has it (%s) but the candidate does not (set missing: ignore on the rule to allow it)", name, num(v)),
			})
		}
	}
	for _, name := range names {
		if !covered[name] {
			res.Uncovered = append(res.Uncovered, name)
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

// Targets returns, for each rule, the metric names it produces checks
// for, in the order Evaluate checks them: the candidate's metrics it
// matches, then the champion's it matches that the candidate lacks.
// Readers of compare.json use it to tie each check back to the rule that
// produced it.
func Targets(rules []spec.Rule, candidate, champion []string) [][]string {
	names := slices.Clone(candidate)
	sort.Strings(names)
	champ := slices.Clone(champion)
	sort.Strings(champ)
	out := make([][]string, len(rules))
	for i, r := range rules {
		pat, err := glob.Compile(r.Metric)
		if err != nil {
			continue
		}
		out[i] = match(pat, names)
		if r.Missing == spec.MissingIgnore {
			continue
		}
		for _, name := range match(pat, champ) {
			if _, ok := slices.BinarySearch(names, name); !ok {
				out[i] = append(out[i], name)
			}
		}
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
	if _, err := glob.Compile(r.Metric); err != nil {
		return fmt.Sprintf("metric: bad glob %q: %v", r.Metric, err)
	}
	if r.Missing != "" && r.Missing != spec.MissingFail && r.Missing != spec.MissingIgnore {
		return fmt.Sprintf("missing: %q is not one of fail, ignore", r.Missing)
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

// match returns the sorted names that pattern selects.
func match(pattern *glob.Pattern, sortedNames []string) []string {
	if !pattern.IsGlob() {
		if _, ok := slices.BinarySearch(sortedNames, pattern.Name()); ok {
			return []string{pattern.Name()}
		}
		return nil
	}
	var out []string
	for _, name := range sortedNames {
		if pattern.Match(name) {
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
	check := Check{Metric: name, Direction: r.Direction, Candidate: &c, Champion: champ}
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
		notes = append(notes, "the champion has no value: change not checked (first-model rule: bounds only)")
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
