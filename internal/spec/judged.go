package spec

import (
	"fmt"
	"strconv"
)

// Loosened lists, in words, how the gate rules of head are easier to pass
// than those of base (the default branch's): rules removed, rules added,
// and for a rule on the same metric pattern, a bound lowered or dropped,
// a required gain lowered or dropped, a tolerance raised or dropped, the
// direction flipped, or missing metrics ignored. A change that only makes
// a rule stricter is not listed. Rules are paired by metric pattern, in
// order.
func Loosened(base, head []Rule) []string {
	var out []string
	used := make([]bool, len(head))
	for _, b := range base {
		j := -1
		for i, h := range head {
			if !used[i] && h.Metric == b.Metric {
				j = i
				break
			}
		}
		if j < 0 {
			out = append(out, fmt.Sprintf("gate rule %q removed", b.Metric))
			continue
		}
		used[j] = true
		out = append(out, ruleLoosened(b, head[j])...)
	}
	for i, h := range head {
		if !used[i] {
			out = append(out, fmt.Sprintf("gate rule %q added", h.Metric))
		}
	}
	return out
}

func ruleLoosened(b, h Rule) []string {
	var out []string
	say := func(format string, args ...any) {
		out = append(out, fmt.Sprintf("gate rule %q: ", b.Metric)+fmt.Sprintf(format, args...))
	}
	if b.Direction != h.Direction {
		say("direction changed from %s to %s", b.Direction, h.Direction)
	}
	// lower reports a floor that h lowers or drops.
	lower := func(name string, bv, hv *float64) {
		switch {
		case bv == nil:
		case hv == nil:
			say("%s %s removed", name, num(*bv))
		case *hv < *bv:
			say("%s lowered from %s to %s", name, num(*bv), num(*hv))
		}
	}
	lower("min_value", b.MinValue, h.MinValue)
	lower("min_delta", b.MinDelta, h.MinDelta)
	lower("min_relative", b.MinRelative, h.MinRelative)
	// A ceiling or allowance that h raises or drops.
	raise := func(name string, bv, hv *float64) {
		switch {
		case bv == nil:
		case hv == nil:
			say("%s %s removed", name, num(*bv))
		case *hv > *bv:
			say("%s raised from %s to %s", name, num(*bv), num(*hv))
		}
	}
	raise("max_value", b.MaxValue, h.MaxValue)
	raise("tolerance", b.Tolerance, h.Tolerance)
	if b.Missing != MissingIgnore && h.Missing == MissingIgnore {
		say("missing metrics now ignored (missing: ignore)")
	}
	return out
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
