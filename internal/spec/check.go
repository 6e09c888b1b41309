package spec

import (
	"github.com/podium-ml/podium/internal/gate/glob"

	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/podium-ml/podium/internal/oci/ociref"
)

// Defaults, as docs/spec.md lists them.
const (
	DefaultRegistryType  = "git"
	DefaultRegistryPath  = ".podium/registry"
	DefaultCachePath     = ".podium/cache"
	DefaultDeployBranch  = "podium/deploy/{{ .Model }}"
	DefaultPSIThreshold  = 0.2
	DefaultKSThreshold   = 0.1
	DefaultComponentPath = "."
	// DefaultCacheMaxSize bounds the step cache's stored outputs: under
	// GitHub's 10 GB actions/cache quota per repository, with room for
	// other caches.
	DefaultCacheMaxSize = "5GB"
)

func applyDefaults(s *Spec) {
	if s.Registry.Type == "" {
		s.Registry.Type = DefaultRegistryType
	}
	if s.Registry.Path == "" {
		s.Registry.Path = DefaultRegistryPath
	}
	if s.Cache.Path == "" {
		s.Cache.Path = DefaultCachePath
	}
	for i := range s.Components {
		if s.Components[i].Path == "" {
			s.Components[i].Path = DefaultComponentPath
		}
	}
	if s.Artifact == "" && len(s.Pipeline) > 0 {
		if outs := s.Pipeline[len(s.Pipeline)-1].Outputs; len(outs) > 0 {
			s.Artifact = outs[0]
		}
	}
	if s.Deploy != nil && s.Deploy.Branch == "" {
		s.Deploy.Branch = DefaultDeployBranch
	}
	if s.Drift.PSIThreshold == 0 {
		s.Drift.PSIThreshold = DefaultPSIThreshold
	}
	if s.Drift.KSThreshold == 0 {
		s.Drift.KSThreshold = DefaultKSThreshold
	}
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("timeout %q is not a duration (write it as 90s, 30m or 2h)", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("timeout must be positive, got %q", s)
	}
	return d, nil
}

// check finds what the schema cannot express.
func check(s *Spec) []problem {
	var probs []problem
	add := func(ptr, format string, args ...any) {
		probs = append(probs, problem{ptr: ptr, msg: fmt.Sprintf(format, args...)})
	}

	checkPath := func(ptr, p string) {
		if msg := localPathProblem(p); msg != "" {
			add(ptr, "%s", msg)
		}
	}
	checkPath("/registry/path", s.Registry.Path)
	checkPath("/cache/path", s.Cache.Path)
	maxSize := s.Cache.MaxSize
	if maxSize == "" {
		maxSize = DefaultCacheMaxSize
	}
	if n, err := ParseSize(maxSize); err != nil {
		add("/cache/max_size", "%v", err)
	} else {
		s.Cache.MaxBytes = n
	}
	if s.Cache.Remote != "" {
		if _, err := ociref.ParseRemote(s.Cache.Remote); err != nil {
			add("/cache/remote", "%v", err)
		}
	}

	compSeen := map[string]int{}
	for i, c := range s.Components {
		if j, dup := compSeen[c.Name]; dup {
			add(fmt.Sprintf("/components/%d/name", i), "duplicate component name %q (also components[%d])", c.Name, j)
		} else {
			compSeen[c.Name] = i
		}
		checkPath(fmt.Sprintf("/components/%d/path", i), c.Path)
	}

	stepIndex := map[string]int{}
	for i, st := range s.Pipeline {
		if j, dup := stepIndex[st.Name]; dup {
			add(fmt.Sprintf("/pipeline/%d/name", i), "duplicate step name %q (also pipeline[%d])", st.Name, j)
			continue
		}
		stepIndex[st.Name] = i
	}
	names := make([]string, 0, len(stepIndex))
	for _, st := range s.Pipeline {
		names = append(names, st.Name)
	}
	for i, st := range s.Pipeline {
		for j, need := range st.Needs {
			ptr := fmt.Sprintf("/pipeline/%d/needs/%d", i, j)
			switch _, ok := stepIndex[need]; {
			case need == st.Name:
				add(ptr, "step %q cannot need itself", need)
			case !ok:
				msg := fmt.Sprintf("unknown step %q", need)
				if sug := suggest(need, names); sug != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", sug)
				}
				add(ptr, "%s", msg)
			}
		}
		for j, p := range st.Params {
			if _, ok := s.Params[p]; !ok {
				msg := fmt.Sprintf("step %q uses param %q, which params does not declare", st.Name, p)
				if sug := suggest(p, slices.Sorted(maps.Keys(s.Params))); sug != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", sug)
				}
				add(fmt.Sprintf("/pipeline/%d/params/%d", i, j), "%s", msg)
			}
		}
		for j, in := range st.Inputs {
			checkPath(fmt.Sprintf("/pipeline/%d/inputs/%d", i, j), in)
		}
		for j, out := range st.Outputs {
			checkPath(fmt.Sprintf("/pipeline/%d/outputs/%d", i, j), out)
		}
	}
	if cyc := findCycle(s.Pipeline, stepIndex); len(cyc) > 0 {
		add(fmt.Sprintf("/pipeline/%d/needs", stepIndex[cyc[0]]), "dependency cycle: %s", strings.Join(cyc, " -> "))
	}

	var outputs []string
	for _, st := range s.Pipeline {
		outputs = append(outputs, st.Outputs...)
	}
	if s.Metrics != "" {
		checkPath("/metrics", s.Metrics)
		if len(s.Pipeline) > 0 && !underAny(s.Metrics, outputs) {
			add("/metrics", "%q is not an output of any step; add it to the outputs of the step that writes it", s.Metrics)
		}
	}
	if s.Artifact != "" {
		checkPath("/artifact", s.Artifact)
		if len(s.Pipeline) > 0 && !underAny(s.Artifact, outputs) {
			add("/artifact", "%q is not an output of any step; add it to the outputs of the step that writes it", s.Artifact)
		}
	}
	for i, p := range s.EvaluationData {
		checkPath(fmt.Sprintf("/evaluation_data/%d", i), p)
	}

	for i, r := range s.Gate.Rules {
		ptr := fmt.Sprintf("/gate/rules/%d", i)
		if _, err := glob.Compile(r.Metric); err != nil {
			add(ptr+"/metric", "bad glob %q: %v", r.Metric, err)
		}
		if r.MinValue != nil && r.MaxValue != nil && *r.MinValue > *r.MaxValue {
			add(ptr+"/min_value", "min_value %g is greater than max_value %g", *r.MinValue, *r.MaxValue)
		}
		if r.Tolerance != nil && (r.MinDelta != nil || r.MinRelative != nil) {
			add(ptr+"/tolerance", "tolerance (how much worse is allowed) cannot be combined with min_delta or min_relative (how much better is required)")
		}
	}

	if d := s.Deploy; d != nil {
		checkPath("/deploy/manifest", d.Manifest)
		for key, text := range map[string]string{"value": d.Value, "branch": d.Branch} {
			if err := checkTemplate(text); err != nil {
				add("/deploy/"+key, "%v", err)
			}
		}
	}
	if d := s.Data; d != nil {
		checkPath("/data/schema", d.Schema)
		for i, in := range d.Inputs {
			checkPath(fmt.Sprintf("/data/inputs/%d", i), in)
			if !slices.ContainsFunc(s.Pipeline, func(st Step) bool {
				return slices.ContainsFunc(st.Inputs, func(x string) bool { return path.Clean(x) == path.Clean(in) })
			}) {
				add(fmt.Sprintf("/data/inputs/%d", i), "%q is not an input of any step; name the step input the schema guards", in)
			}
			for _, st := range s.Pipeline {
				if slices.ContainsFunc(st.Outputs, func(x string) bool { return path.Clean(x) == path.Clean(in) }) {
					add(fmt.Sprintf("/data/inputs/%d", i), "%q is an output of step %q, but the data check runs before any step: guard the file it is made from", in, st.Name)
				}
			}
		}
	}
	return probs
}

// localPathProblem says why p is not a relative path inside the spec's
// directory, or "" when it is.
func localPathProblem(p string) string {
	switch {
	case strings.ContainsRune(p, 0):
		return "path contains a NUL byte"
	case strings.Contains(p, `\`):
		return fmt.Sprintf("path %q uses backslashes; write paths with /", p)
	case path.IsAbs(p) || filepath.IsAbs(p) || (len(p) >= 2 && p[1] == ':'):
		return fmt.Sprintf("path %q is absolute; paths are relative to the spec's directory", p)
	case !filepath.IsLocal(filepath.FromSlash(strings.TrimSuffix(p, "/"))) && path.Clean(p) != ".":
		return fmt.Sprintf("path %q leaves the spec's directory", p)
	}
	return ""
}

// underAny reports whether p is one of roots or inside one of them.
func underAny(p string, roots []string) bool {
	p = path.Clean(p)
	for _, r := range roots {
		r = path.Clean(r)
		if p == r || r == "." || strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	return false
}

// findCycle returns the steps of one dependency cycle, first step repeated
// at the end, or nil.
func findCycle(steps []Step, index map[string]int) []string {
	const (
		unvisited = iota
		active
		done
	)
	state := make([]int, len(steps))
	var stack []string
	var cycle []string
	var visit func(i int) bool
	visit = func(i int) bool {
		state[i] = active
		stack = append(stack, steps[i].Name)
		for _, need := range steps[i].Needs {
			j, ok := index[need]
			if !ok || need == steps[i].Name {
				continue
			}
			switch state[j] {
			case active:
				for k, name := range stack {
					if name == need {
						cycle = append(append([]string{}, stack[k:]...), need)
						return true
					}
				}
			case unvisited:
				if visit(j) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
		return false
	}
	for i := range steps {
		if state[i] == unvisited && visit(i) {
			return cycle
		}
	}
	return nil
}

// checkTemplate parses a deploy template and runs it on sample data, so a
// misspelt field (.Modle) fails at validate time, not at deploy time.
func checkTemplate(text string) error {
	t, err := template.New("deploy").Option("missingkey=error").Parse(text)
	if err != nil {
		return fmt.Errorf("template: %s", strings.TrimPrefix(err.Error(), "template: deploy:"))
	}
	sample := TemplateData{
		Model: "m", Version: "v", Commit: "c",
		Artifact: TemplateArtifact{Path: "p", Digest: "sha256:0", OCI: "oci://h/r@sha256:0"},
		Metrics:  map[string]float64{},
	}
	if err := t.Execute(discard{}, sample); err != nil {
		msg := err.Error()
		if i := strings.Index(msg, "executing \"deploy\" at "); i >= 0 {
			msg = msg[i+len("executing \"deploy\" at "):]
		}
		return fmt.Errorf("template: %s", msg)
	}
	return nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// RenderTemplate renders a deploy template (deploy.value, deploy.branch).
func RenderTemplate(text string, data TemplateData) (string, error) {
	t, err := template.New("deploy").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Suggest returns the candidate closest to s when it is close enough to be
// a likely typo, else "": for "did you mean" hints.
func Suggest(s string, candidates []string) string { return suggest(s, candidates) }

// suggest returns the candidate closest to s when it is close enough to be
// a likely typo, else "".
func suggest(s string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		d := levenshtein(strings.ToLower(s), strings.ToLower(c))
		if bestDist < 0 || d < bestDist {
			best, bestDist = c, d
		}
	}
	limit := len(s) / 3
	if limit < 2 {
		limit = 2
	}
	if bestDist >= 0 && bestDist <= limit && bestDist < len(s) {
		return best
	}
	return ""
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// sizeUnits are the suffixes ParseSize accepts, decimal and binary.
var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"B", 1},
}

// ParseSize reads a size such as 500MB, 5GB, 2GiB or 1048576 (bytes).
func ParseSize(s string) (int64, error) {
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || num == "" || strings.ContainsAny(num, "eEnNiIxXpP_") {
		return 0, fmt.Errorf("size %q is not a size (write it as 500MB, 5GB or 2GiB)", s)
	}
	n := f * float64(mult)
	if n < 1 || n >= 1<<62 {
		return 0, fmt.Errorf("size %q must be at least one byte and below 4 EiB", s)
	}
	return int64(n), nil
}
