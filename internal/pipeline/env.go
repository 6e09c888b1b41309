package pipeline

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// ParamEnvName is the variable a param is exported as: PODIUM_PARAM_ and
// the name upper-cased, every character that is not a letter or digit
// turned into _ (learning_rate → PODIUM_PARAM_LEARNING_RATE).
func ParamEnvName(name string) string {
	var b strings.Builder
	b.WriteString("PODIUM_PARAM_")
	for _, r := range strings.ToUpper(name) {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// ParamValue renders a param as a shell variable holds it: numbers in
// their shortest exact form (0.1, 42, 1e-05), booleans as true/false.
func ParamValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// paramEnv returns the PODIUM_PARAM_ variables, sorted, or an error when
// two params map to the same variable (lr and LR).
func paramEnv(params map[string]any) ([]string, error) {
	seen := map[string]string{}
	var env []string
	for _, name := range slices.Sorted(maps.Keys(params)) {
		key := ParamEnvName(name)
		if other, dup := seen[key]; dup {
			return nil, fmt.Errorf("params %q and %q are both exported as %s; rename one", other, name, key)
		}
		seen[key] = name
		env = append(env, key+"="+ParamValue(params[name]))
	}
	return env, nil
}
