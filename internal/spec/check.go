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

// checker collects what check finds, each problem at a JSON pointer.
type checker struct{ probs []problem }

func (c *checker) add(ptr, format string, args ...any) {
	c.probs = append(c.probs, problem{ptr: ptr, msg: fmt.Sprintf(format, args...)})
}

// path adds a problem when p is not a relative path inside the spec's
// directory.
func (c *checker) path(ptr, p string) {
	if msg := localPathProblem(p); msg != "" {
		c.add(ptr, "%s", msg)
	}
}

// check finds what the schema cannot express.
func check(s *Spec) []problem {
	c := &checker{}
	c.storage(s)
	c.components(s.Components)
	c.probs = append(c.probs, checkGraph(s.Pipeline)...)
	c.steps(s)
	c.results(s)
	c.rules(s.Gate.Rules)
	c.deploy(s.Deploy)
	c.data(s)
	return c.probs
}

// storage checks registry and cache, and sets Cache.MaxBytes.
func (c *checker) storage(s *Spec) {
	c.path("/registry/path", s.Registry.Path)
	c.path("/cache/path", s.Cache.Path)
	maxSize := s.Cache.MaxSize
	if maxSize == "" {
		maxSize = DefaultCacheMaxSize
	}
	if n, err := ParseSize(maxSize); err != nil {
		c.add("/cache/max_size", "%v", err)
	} else {
		s.Cache.MaxBytes = n
	}
	if s.Cache.Remote != "" {
		if _, err := ociref.ParseRemote(s.Cache.Remote); err != nil {
			c.add("/cache/remote", "%v", err)
		}
	}
}

func (c *checker) components(comps []Component) {
	seen := map[string]int{}
	for i, comp := range comps {
		if j, dup := seen[comp.Name]; dup {
			c.add(fmt.Sprintf("/components/%d/name", i), "duplicate component name %q (also components[%d])", comp.Name, j)
		} else {
			seen[comp.Name] = i
		}
		c.path(fmt.Sprintf("/components/%d/path", i), comp.Path)
	}
}

// steps checks each step's params and paths; checkGraph checks how the
// steps relate.
func (c *checker) steps(s *Spec) {
	for i, st := range s.Pipeline {
		for j, p := range st.Params {
			if _, ok := s.Params[p]; !ok {
				msg := fmt.Sprintf("step %q uses param %q, which params does not declare", st.Name, p)
				if sug := suggest(p, slices.Sorted(maps.Keys(s.Params))); sug != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", sug)
				}
				c.add(fmt.Sprintf("/pipeline/%d/params/%d", i, j), "%s", msg)
			}
		}
		for j, in := range st.Inputs {
			c.path(fmt.Sprintf("/pipeline/%d/inputs/%d", i, j), in)
		}
		for j, out := range st.Outputs {
			c.path(fmt.Sprintf("/pipeline/%d/outputs/%d", i, j), out)
		}
	}
}

// results checks the files compare reads: the metrics, the artifact and
// the evaluation data.
func (c *checker) results(s *Spec) {
	var outputs []string
	for _, st := range s.Pipeline {
		outputs = append(outputs, st.Outputs...)
	}
	for _, f := range []struct{ ptr, path string }{{"/metrics", s.Metrics}, {"/artifact", s.Artifact}} {
		if f.path == "" {
			continue
		}
		c.path(f.ptr, f.path)
		if len(s.Pipeline) > 0 && !underAny(f.path, outputs) {
			c.add(f.ptr, "%q is not an output of any step; add it to the outputs of the step that writes it", f.path)
		}
	}
	for i, p := range s.EvaluationData {
		c.path(fmt.Sprintf("/evaluation_data/%d", i), p)
	}
}

func (c *checker) rules(rules []Rule) {
	for i, r := range rules {
		ptr := fmt.Sprintf("/gate/rules/%d", i)
		if _, err := glob.Compile(r.Metric); err != nil {
			c.add(ptr+"/metric", "bad glob %q: %v", r.Metric, err)
		}
		if r.MinValue != nil && r.MaxValue != nil && *r.MinValue > *r.MaxValue {
			c.add(ptr+"/min_value", "min_value %g is greater than max_value %g", *r.MinValue, *r.MaxValue)
		}
		if r.Tolerance != nil && (r.MinDelta != nil || r.MinRelative != nil) {
			c.add(ptr+"/tolerance", "tolerance (how much worse is allowed) cannot be combined with min_delta or min_relative (how much better is required)")
		}
	}
}

func (c *checker) deploy(d *Deploy) {
	if d == nil {
		return
	}
	c.path("/deploy/manifest", d.Manifest)
	for key, text := range map[string]string{"value": d.Value, "branch": d.Branch} {
		if err := checkTemplate(text); err != nil {
			c.add("/deploy/"+key, "%v", err)
		}
	}
}

// data checks that the data schema guards step inputs that exist before
// any step runs.
func (c *checker) data(s *Spec) {
	d := s.Data
	if d == nil {
		return
	}
	c.path("/data/schema", d.Schema)
	for i, in := range d.Inputs {
		ptr := fmt.Sprintf("/data/inputs/%d", i)
		c.path(ptr, in)
		if !slices.ContainsFunc(s.Pipeline, func(st Step) bool {
			return slices.ContainsFunc(st.Inputs, func(x string) bool { return path.Clean(x) == path.Clean(in) })
		}) {
			c.add(ptr, "%q is not an input of any step; name the step input the schema guards", in)
		}
		for _, st := range s.Pipeline {
			if slices.ContainsFunc(st.Outputs, func(x string) bool { return path.Clean(x) == path.Clean(in) }) {
				c.add(ptr, "%q is an output of step %q, but the data check runs before any step: guard the file it is made from", in, st.Name)
			}
		}
	}
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
