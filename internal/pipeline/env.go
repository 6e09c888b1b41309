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

// tokenVars are the variables that hold a CI job's or podium's own
// credentials. Steps and components run the user's code, and a token in
// their environment is one `env` or crash dump away from a log or an
// uploaded artifact; podium needs these itself, the pipeline does not.
var tokenVars = map[string]bool{
	"GITHUB_TOKEN":                   true,
	"GH_TOKEN":                       true,
	"GH_ENTERPRISE_TOKEN":            true,
	"GITHUB_ENTERPRISE_TOKEN":        true,
	"ACTIONS_RUNTIME_TOKEN":          true,
	"ACTIONS_ID_TOKEN_REQUEST_TOKEN": true,
	"ACTIONS_ID_TOKEN_REQUEST_URL":   true,
	"GITLAB_TOKEN":                   true,
	"CI_JOB_TOKEN":                   true,
	"CI_JOB_JWT":                     true,
	"CI_JOB_JWT_V1":                  true,
	"CI_JOB_JWT_V2":                  true,
	// GitLab embeds the job token in these.
	"CI_REGISTRY_PASSWORD":         true,
	"CI_DEPENDENCY_PROXY_PASSWORD": true,
	"CI_REPOSITORY_URL":            true,
	"PODIUM_TRIGGER_TOKEN":         true,
}

// IsTokenVar reports whether the variable name holds a credential podium
// keeps from steps: one of the CI and podium token variables, or an action
// input whose name mentions a token (INPUT_TOKEN, INPUT_GITHUB_TOKEN).
func IsTokenVar(name string) bool {
	name = strings.ToUpper(name)
	if tokenVars[name] {
		return true
	}
	rest, ok := strings.CutPrefix(name, "INPUT_")
	return ok && strings.Contains(rest, "TOKEN")
}

// StripTokens returns environ without the token variables (IsTokenVar).
// A step that needs a credential of its own names it in its env.
func StripTokens(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !IsTokenVar(name) {
			out = append(out, kv)
		}
	}
	return out
}
