package drift

import (
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"

	"github.com/podium-ml/podium/internal/gate/glob"
	"github.com/podium-ml/podium/internal/spec"
)

// DecayCheck is one gate rule applied to one live metric.
type DecayCheck struct {
	Metric    string         `json:"metric"`
	Direction spec.Direction `json:"direction"`
	Live      float64        `json:"live"`
	// Champion is nil when there is no champion or it lacks the metric.
	Champion *float64 `json:"champion"`
	Decayed  bool     `json:"decayed"`
	Reason   string   `json:"reason"`
}

// Decay checks live metrics (from monitoring) against the gate rules: a
// live value outside a rule's min_value/max_value has decayed, and so has
// one worse than the champion's by more than the rule's tolerance.
// min_delta and min_relative are for promoting a better model and do not
// apply. A rule that matches no live metric gives a warning: monitoring
// may measure fewer metrics than evaluation does.
//
// Comparisons are exact in decimal (each value read back as the shortest
// decimal that round-trips), so a value exactly at a bound or exactly the
// tolerance away has not decayed, although 0.93-0.92 > 0.01 in float64.
func Decay(rules []spec.Rule, live, champion map[string]float64) (checks []DecayCheck, warnings []string) {
	names := make([]string, 0, len(live))
	for name := range live {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, r := range rules {
		matched := false
		for _, name := range names {
			if !matches(r.Metric, name) {
				continue
			}
			matched = true
			checks = append(checks, decayCheck(r, name, live[name], champion))
		}
		if !matched {
			warnings = append(warnings, fmt.Sprintf("gate rule %q matches no live metric: not checked for decay", r.Metric))
		}
	}
	return checks, warnings
}

// matches uses the gate's glob, so a rule covers the same metrics here as
// in compare.
func matches(pattern, name string) bool {
	return glob.Match(pattern, name)
}

func decayCheck(r spec.Rule, name string, v float64, champion map[string]float64) DecayCheck {
	c := DecayCheck{Metric: name, Direction: r.Direction, Live: v}
	if cv, ok := champion[name]; ok {
		c.Champion = &cv
	}
	lv := rat(v)
	var failed, passed []string
	if r.MinValue != nil {
		if lv.Cmp(rat(*r.MinValue)) < 0 {
			failed = append(failed, fmt.Sprintf("%s %s < min_value %s", name, num(v), num(*r.MinValue)))
		} else {
			passed = append(passed, fmt.Sprintf("≥ min_value %s", num(*r.MinValue)))
		}
	}
	if r.MaxValue != nil {
		if lv.Cmp(rat(*r.MaxValue)) > 0 {
			failed = append(failed, fmt.Sprintf("%s %s > max_value %s", name, num(v), num(*r.MaxValue)))
		} else {
			passed = append(passed, fmt.Sprintf("≤ max_value %s", num(*r.MaxValue)))
		}
	}
	if r.Tolerance != nil && c.Champion != nil {
		// worse = how far the live value is on the bad side of the champion.
		worse := new(big.Rat).Sub(rat(*c.Champion), lv)
		word := "below"
		if r.Direction == spec.Lower {
			worse.Neg(worse)
			word = "above"
		}
		if worse.Cmp(rat(*r.Tolerance)) > 0 {
			failed = append(failed, fmt.Sprintf("%s %s is %s champion %s by more than tolerance %s",
				name, num(v), word, num(*c.Champion), num(*r.Tolerance)))
		} else {
			passed = append(passed, fmt.Sprintf("within tolerance %s of champion %s", num(*r.Tolerance), num(*c.Champion)))
		}
	}
	switch {
	case len(failed) > 0:
		c.Decayed = true
		c.Reason = strings.Join(failed, "; ")
	case len(passed) > 0:
		c.Reason = fmt.Sprintf("%s %s %s", name, num(v), strings.Join(passed, ", "))
	case r.Tolerance != nil:
		c.Reason = fmt.Sprintf("%s %s: no champion value to compare with", name, num(v))
	default:
		c.Reason = fmt.Sprintf("%s %s: the rule sets no bound or tolerance", name, num(v))
	}
	return c
}

// rat is v as the shortest decimal that round-trips to it.
func rat(v float64) *big.Rat {
	r, _ := new(big.Rat).SetString(strconv.FormatFloat(v, 'g', -1, 64))
	return r
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Verdict says whether to retrain, and why: every drifted column (worst
// first) and every decayed metric.
type Verdict struct {
	Retrain bool     `json:"retrain"`
	Reasons []string `json:"reasons"`
}

// Decide combines column drift and metric decay into a verdict. columns
// should already be ordered worst first (see Worst).
func Decide(columns []Column, decay []DecayCheck) Verdict {
	return DecideShare(columns, decay, 0)
}

// DecideShare is Decide with a dataset-level rule: the columns' drift
// counts only when at least share of the compared columns drifted (0: any
// one column).
func DecideShare(columns []Column, decay []DecayCheck, share float64) Verdict {
	v := Verdict{Reasons: []string{}}
	var drifted, compared int
	for _, c := range columns {
		if c.PSI != nil || c.KS != nil {
			compared++
		}
		if c.Drifted || len(c.Reasons) > 0 {
			drifted++
		}
	}
	if drifted > 0 && (share == 0 || float64(drifted) >= share*float64(compared)) {
		for _, c := range columns {
			v.Reasons = append(v.Reasons, c.Reasons...)
		}
		if share > 0 {
			v.Reasons = append(v.Reasons, fmt.Sprintf("%d of %d columns drifted, at least the share %s", drifted, compared, Num(share)))
		}
	}
	for _, d := range decay {
		if d.Decayed {
			v.Reasons = append(v.Reasons, "decay: "+d.Reason)
		}
	}
	v.Retrain = len(v.Reasons) > 0
	return v
}

// Worst returns the columns ordered worst first (by Severity), ties in
// their original order.
func Worst(columns []Column, t Thresholds) []Column {
	out := append([]Column(nil), columns...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Severity(t) > out[j].Severity(t) })
	return out
}
