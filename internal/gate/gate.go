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

// Decisions, as compare.json's decision says them. The gate itself
// decides Promote or Reject; compare turns a promote into Unchanged or
// Unverified. Only Promote leads to a deployment.
const (
	Promote = "promote"
	Reject  = "reject"
	// Unchanged: the candidate's artifact is the champion's (same digest):
	// not a new model, nothing to propose.
	Unchanged = "unchanged"
	// Unverified: every check passed, but the champion was read from the
	// working tree (the default branch could not be read), which the change
	// under test can edit.
	Unverified = "unverified"
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
	e := &evaluation{in: in, res: &Result{Decision: Promote}, covered: map[string]bool{}, candidate: "the candidate"}
	if len(in.Rules) == 0 {
		e.problem("gate.rules", "no rules: add at least one rule for the gate to decide on")
		return nil, e.errs
	}
	e.names = slices.Sorted(maps.Keys(in.Candidate))
	e.nonNumeric = sortedCopy(in.NonNumeric)
	e.champNames = slices.Sorted(maps.Keys(in.Champion))
	if in.CandidateSource != "" {
		e.candidate = "the candidate (" + in.CandidateSource + ")"
	}
	for i, r := range in.Rules {
		e.rule(i, r)
	}
	res := e.res
	for _, name := range e.names {
		if !e.covered[name] {
			res.Uncovered = append(res.Uncovered, name)
		}
	}
	if len(e.errs) > 0 {
		return nil, e.errs
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

// evaluation is one Evaluate call's state.
type evaluation struct {
	in                            Input
	res                           *Result
	errs                          diag.List
	names, nonNumeric, champNames []string // sorted
	covered                       map[string]bool
	candidate                     string // "the candidate (file)", for messages
}

func (e *evaluation) problem(field, format string, args ...any) {
	e.errs = append(e.errs, &diag.Error{File: e.in.SpecFile, Field: field, Msg: fmt.Sprintf(format, args...), Kind: "gate"})
}

func (e *evaluation) warn(format string, args ...any) {
	e.res.Warnings = append(e.res.Warnings, fmt.Sprintf(format, args...))
}

// rule applies rule i to the metrics it matches.
func (e *evaluation) rule(i int, r spec.Rule) {
	field := fmt.Sprintf("gate.rules[%d]", i)
	if msg := checkRule(r); msg != "" {
		field, msg, _ := strings.Cut(msg, ": ")
		e.problem(fmt.Sprintf("gate.rules[%d].%s", i, field), "%s", msg)
		return
	}
	pat := glob.MustCompile(r.Metric)
	matched := match(pat, e.names)
	badValue := match(pat, e.nonNumeric)
	for _, name := range badValue {
		e.problem(field+".metric", "%s metric %q is not a number", e.candidate, name)
	}
	// Metrics the champion has that the candidate lacks: a slice the
	// candidate dropped must not vanish from the comparison.
	var lost []string
	for _, name := range match(pat, e.champNames) {
		if _, ok := e.in.Candidate[name]; !ok && !slices.Contains(badValue, name) {
			lost = append(lost, name)
		}
	}
	if len(matched) == 0 && len(lost) == 0 {
		e.unmatched(field, r, pat, len(badValue) > 0)
		return
	}
	for _, name := range matched {
		e.metric(i, r, name)
	}
	for _, name := range lost {
		if r.Missing == spec.MissingIgnore {
			e.warn("the champion has metric %q (rule %q) but the candidate does not: not checked (missing: ignore)", name, r.Metric)
			continue
		}
		v := e.in.Champion[name]
		e.res.Checks = append(e.res.Checks, Check{
			Rule: i, Metric: name, Direction: r.Direction, Champion: &v, Missing: true,
			Reason: fmt.Sprintf("%s missing: the champion has it (%s) but the candidate does not (set missing: ignore on the rule to allow it)", name, num(v)),
		})
	}
}

// unmatched reports a rule that matches no metric of either side.
func (e *evaluation) unmatched(field string, r spec.Rule, pat *glob.Pattern, notNumber bool) {
	switch {
	case notNumber:
		// Already reported as not a number.
	case r.Missing == spec.MissingIgnore:
		e.warn("rule %q matches no metric of the candidate or the champion: not checked (missing: ignore)", r.Metric)
	case pat.IsGlob():
		e.problem(field+".metric", "%q matches no metric of %s", r.Metric, e.candidate)
	default:
		msg := fmt.Sprintf("%s has no metric %q", e.candidate, r.Metric)
		if s := spec.Suggest(r.Metric, e.names); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		e.problem(field+".metric", "%s", msg)
	}
}

// metric applies rule i to one candidate metric.
func (e *evaluation) metric(i int, r spec.Rule, name string) {
	field := fmt.Sprintf("gate.rules[%d].metric", i)
	e.covered[name] = true
	c := e.in.Candidate[name]
	if msg := nonFinite(c); msg != "" {
		e.problem(field, "%s metric %q is %s: write finite numbers (Python: json.dump(..., allow_nan=False))", e.candidate, name, msg)
		return
	}
	var champ *float64
	if e.in.Champion != nil {
		if v, ok := e.in.Champion[name]; ok {
			if msg := nonFinite(v); msg != "" {
				e.problem(field, "champion metric %q is %s", name, msg)
				return
			}
			champ = &v
		}
	}
	ch := evaluate(r, name, c, champ, e.in.Champion != nil)
	ch.Rule = i
	e.res.Checks = append(e.res.Checks, ch)
	if e.in.Champion != nil && champ == nil && hasChange(r) {
		e.warn("the champion has no metric %q: only its absolute bounds were checked, as for a first model", name)
	}
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
		changeConds, delta := changeConditions(r, cr, *champ)
		conds = append(conds, changeConds...)
		check.Delta = delta
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

// changeConditions are the rule's conditions on the change from the
// champion (min_delta, min_relative, tolerance), and the delta.
func changeConditions(r spec.Rule, cr *big.Rat, champ float64) ([]condition, *float64) {
	var conds []condition
	var deltaF *float64
	chr := rat(champ)
	delta := new(big.Rat).Sub(cr, chr)
	if d, _ := delta.Float64(); !math.IsInf(d, 0) {
		deltaF = &d
	}
	// gain is how much better the candidate is, in the rule's direction.
	gain := delta
	better, worse := "≥", "<"
	sign := 1
	if r.Direction == spec.Lower {
		gain = new(big.Rat).Neg(delta)
		better, worse = "≤", ">"
		sign = -1
	}
	if r.MinDelta != nil {
		ok := gain.Cmp(rat(*r.MinDelta)) >= 0
		conds = append(conds, condition{ok, fmt.Sprintf("%s champion %s %s", cmpText(ok, better, worse), num(champ), offset(sign, *r.MinDelta))})
	}
	if r.MinRelative != nil {
		need := new(big.Rat).Mul(rat(*r.MinRelative), new(big.Rat).Abs(chr))
		ok := gain.Cmp(need) >= 0
		threshold := new(big.Rat).Add(chr, need)
		if r.Direction == spec.Lower {
			threshold.Sub(chr, need)
		}
		t, _ := threshold.Float64()
		conds = append(conds, condition{ok, fmt.Sprintf("%s champion %s %s (%s)", cmpText(ok, better, worse), num(champ), offset(sign, percent(*r.MinRelative))+"%", num(t))})
	}
	if r.Tolerance != nil {
		// Worse by at most the tolerance: gain ≥ -tolerance.
		ok := gain.Cmp(new(big.Rat).Neg(rat(*r.Tolerance))) >= 0
		conds = append(conds, condition{ok, fmt.Sprintf("%s champion %s %s", cmpText(ok, better, worse), num(champ), offset(-sign, *r.Tolerance))})
	}
	return conds, deltaF
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

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
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
