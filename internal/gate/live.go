package gate

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/podium-ml/podium/internal/spec"
)

// Live applies a rule to a live metric (from monitoring): the value has
// decayed when it is outside the rule's min_value/max_value, or worse than
// the champion's by more than the rule's tolerance. min_delta and
// min_relative are for promoting a better model and do not apply. champion
// is nil when there is no champion value. Comparisons are exact in
// decimal, as in Evaluate.
func Live(r spec.Rule, name string, v float64, champion *float64) (decayed bool, reason string) {
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
	if r.Tolerance != nil && champion != nil {
		// worse = how far the live value is on the bad side of the champion.
		worse := new(big.Rat).Sub(rat(*champion), lv)
		word := "below"
		if r.Direction == spec.Lower {
			worse.Neg(worse)
			word = "above"
		}
		if worse.Cmp(rat(*r.Tolerance)) > 0 {
			failed = append(failed, fmt.Sprintf("%s %s is %s champion %s by more than tolerance %s",
				name, num(v), word, num(*champion), num(*r.Tolerance)))
		} else {
			passed = append(passed, fmt.Sprintf("within tolerance %s of champion %s", num(*r.Tolerance), num(*champion)))
		}
	}
	switch {
	case len(failed) > 0:
		return true, strings.Join(failed, "; ")
	case len(passed) > 0:
		return false, fmt.Sprintf("%s %s %s", name, num(v), strings.Join(passed, ", "))
	case r.Tolerance != nil:
		return false, fmt.Sprintf("%s %s: no champion value to compare with", name, num(v))
	}
	return false, fmt.Sprintf("%s %s: the rule sets no bound or tolerance", name, num(v))
}
