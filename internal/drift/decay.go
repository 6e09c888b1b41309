package drift

import (
	"fmt"
	"sort"

	"github.com/podium-ml/podium/internal/gate"
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
// The rule's meaning (matching, bounds, tolerance, the wording) is the
// gate's: gate.Live and gate.Matching.
func Decay(rules []spec.Rule, live, champion map[string]float64) (checks []DecayCheck, warnings []string) {
	names := make([]string, 0, len(live))
	for name := range live {
		names = append(names, name)
	}
	for _, r := range rules {
		matched := gate.Matching(r.Metric, names)
		for _, name := range matched {
			checks = append(checks, decayCheck(r, name, live[name], champion))
		}
		if len(matched) == 0 {
			warnings = append(warnings, fmt.Sprintf("gate rule %q matches no live metric: not checked for decay", r.Metric))
		}
	}
	return checks, warnings
}

func decayCheck(r spec.Rule, name string, v float64, champion map[string]float64) DecayCheck {
	c := DecayCheck{Metric: name, Direction: r.Direction, Live: v}
	if cv, ok := champion[name]; ok {
		c.Champion = &cv
	}
	c.Decayed, c.Reason = gate.Live(r, name, v, c.Champion)
	return c
}

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
