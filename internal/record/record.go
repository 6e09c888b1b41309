// Package record builds the metadata record of one pipeline run (what was
// trained, from which commit, data and parameters, with which metrics, in
// which CI run, and what the gate decided), renders it as podium's own JSON
// document or as an in-toto Statement, and links it to its commit through
// git notes under refs/notes/podium.
//
// A record is deterministic: the same run directory, spec and CI job give
// the same bytes, so the digest of a record names it. Its canonical form is
// one line of compact JSON followed by a newline: the file podium writes
// and the line kept in the commit's note are the same bytes.
package record

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/gate/glob"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/strictjson"
	"github.com/podium-ml/podium/schemas"
)

// SchemaVersion is the version of the record format this package writes.
const SchemaVersion = 1

// SchemaName is the embedded schema every record is validated against.
const SchemaName = "record.schema.json"

// MaxSize bounds a record podium decodes (a note line, a record file). A
// record is a few KiB; a model of many files makes it larger, never this.
const MaxSize = 16 << 20

// Record is the metadata record of one pipeline run. Field order is the
// order of the JSON document.
type Record struct {
	SchemaVersion int                `json:"schema_version"`
	Model         string             `json:"model"`
	Commit        Commit             `json:"commit"`
	CI            CI                 `json:"ci"`
	StartedAt     time.Time          `json:"started_at"`
	FinishedAt    time.Time          `json:"finished_at"`
	SpecDigest    string             `json:"spec_digest"`
	Params        map[string]any     `json:"params"`
	Metrics       map[string]float64 `json:"metrics"`
	PrimaryMetric *string            `json:"primary_metric"`
	Artifact      Artifact           `json:"artifact"`
	DataDigest    *string            `json:"data_digest"`
	Inputs        []File             `json:"inputs"`
	Outputs       []File             `json:"outputs"`
	Steps         []Step             `json:"steps"`
	Decision      *string            `json:"decision"`
	Gate          *Gate              `json:"gate"`
	Environment   Environment        `json:"environment"`
	// Data is the data check before training, when the spec has one.
	Data *rundir.DataCheck `json:"data,omitempty"`
}

// Commit is the commit the pipeline ran on. Only SHA is always known.
type Commit struct {
	SHA         string `json:"sha"`
	Ref         string `json:"ref,omitempty"`
	Branch      string `json:"branch,omitempty"`
	Repository  string `json:"repository,omitempty"`
	PullRequest int    `json:"pull_request,omitempty"`
	// Clean says whether the tracked files matched the commit when the run
	// started (nil: not known); Changed lists those that did not.
	Clean     *bool    `json:"clean,omitempty"`
	Changed   []string `json:"changed,omitempty"`
	Truncated bool     `json:"changed_truncated,omitempty"`
}

// CI is the job that ran the pipeline. Unknown fields are left out.
type CI struct {
	Provider string `json:"provider"`
	RunID    string `json:"run_id,omitempty"`
	RunURL   string `json:"run_url,omitempty"`
	Workflow string `json:"workflow,omitempty"`
	Job      string `json:"job,omitempty"`
	Attempt  int    `json:"attempt,omitempty"`
}

// File is a path a step read or wrote, relative to the spec's directory,
// with its digest and size in bytes (for a directory, the sum of its files).
type File struct {
	Path   string `json:"path"`
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// Artifact is the model: the spec's artifact path, its digest and size, and
// every file it holds with the file's own digest (the in-toto subjects).
type Artifact struct {
	Path   string `json:"path"`
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
	Files  []File `json:"files"`
}

// Step is one step's outcome.
type Step struct {
	Name      string  `json:"name"`
	Status    string  `json:"status"`
	ExitCode  int     `json:"exit_code"`
	DurationS float64 `json:"duration_s"`
}

// Gate is the comparison behind the decision, from compare.json.
type Gate struct {
	Champion   *rundir.Champion `json:"champion"`
	Checks     []rundir.Check   `json:"checks"`
	Comparable bool             `json:"comparable"`
	Warnings   []string         `json:"warnings"`
}

// Environment says what produced the record.
type Environment struct {
	PodiumVersion string `json:"podium_version"`
	OS            string `json:"os"`
	Arch          string `json:"arch"`
	ImageDigest   string `json:"image_digest,omitempty"`
	// Runtimes and Lockfiles are what a reproduction needs, from run.json:
	// the runtime versions seen on the steps' PATH and the dependency
	// lockfiles' digests, at train time.
	Runtimes  map[string]string `json:"runtimes,omitempty"`
	Lockfiles []rundir.Lockfile `json:"lockfiles,omitempty"`
}

// Source is everything a record is built from.
type Source struct {
	Run     *rundir.Run
	Compare *rundir.Compare // nil when `podium compare` did not run
	CI      ci.Run
	Env     Environment
	// PrimaryMetric is the metric the log shows, "" for none (see
	// PrimaryMetric).
	PrimaryMetric string
	Artifact      Artifact
	// Sizes holds the size of every path in the steps' inputs and outputs.
	Sizes map[string]int64
	// Code lists the spec's component paths: inputs under them are code,
	// not data (DataDigest). EvaluationData lists the spec's
	// evaluation_data, which is data even when a step writes it.
	Code           []string
	EvaluationData []string
}

var (
	namePattern   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`) })
	shaPattern    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`) })
	digestPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^sha256:[0-9a-f]{64}$`) })
)

// New builds the record of a run. The run must have passed CheckRun.
func New(src Source) (*Record, error) {
	run := src.Run
	r := &Record{
		SchemaVersion: SchemaVersion,
		Model:         run.Model,
		Commit: Commit{
			SHA:         run.Commit,
			Ref:         src.CI.Ref,
			Branch:      src.CI.Branch,
			Repository:  src.CI.Repository,
			PullRequest: max(src.CI.PullRequest, 0),
		},
		CI: CI{
			Provider: src.CI.Provider,
			RunID:    src.CI.RunID,
			RunURL:   absoluteURL(src.CI.RunURL),
			Workflow: src.CI.Workflow,
			Job:      src.CI.Job,
			Attempt:  max(src.CI.Attempt, 0),
		},
		StartedAt:   run.StartedAt.UTC(),
		FinishedAt:  run.FinishedAt.UTC(),
		SpecDigest:  run.SpecDigest,
		Params:      run.Params,
		Metrics:     run.Metrics,
		Data:        run.Data,
		Artifact:    src.Artifact,
		Steps:       []Step{},
		Environment: environment(src.Env, run.Environment),
	}
	if r.CI.Provider == "" {
		r.CI.Provider = "local"
	}
	if wt := run.Worktree; wt != nil {
		clean := wt.Clean
		r.Commit.Clean = &clean
		r.Commit.Changed = wt.Changed
		r.Commit.Truncated = wt.Truncated
	}
	if r.Params == nil {
		r.Params = map[string]any{}
	}
	if r.Metrics == nil {
		r.Metrics = map[string]float64{}
	}
	if src.PrimaryMetric != "" {
		r.PrimaryMetric = &src.PrimaryMetric
	}
	for _, s := range run.Steps {
		r.Steps = append(r.Steps, Step{Name: s.Name, Status: s.Status, ExitCode: s.ExitCode, DurationS: s.DurationS})
	}

	var err error
	if r.Inputs, err = files(run.Steps, func(s rundir.Step) map[string]string { return s.Inputs }, src.Sizes); err != nil {
		return nil, err
	}
	if r.Outputs, err = files(run.Steps, func(s rundir.Step) map[string]string { return s.Outputs }, src.Sizes); err != nil {
		return nil, err
	}
	r.DataDigest = dataDigest(dataInputs(r.Inputs, r.Outputs, src.Code, src.EvaluationData))

	if c := src.Compare; c != nil {
		if c.Model != run.Model {
			return nil, fmt.Errorf("compare.json is for model %q but run.json for %q", c.Model, run.Model)
		}
		decision := c.Decision
		r.Decision = &decision
		r.Gate = gateOf(c)
	}
	return r, nil
}

// environment is where the record was made (env) with what run.json saw
// at train time (the runtimes and lockfiles), when it saw any.
func environment(env Environment, run *rundir.Environment) Environment {
	if run != nil {
		if len(run.Runtimes) > 0 {
			env.Runtimes = run.Runtimes
		}
		if len(run.Lockfiles) > 0 {
			env.Lockfiles = run.Lockfiles
		}
	}
	if !digestPattern().MatchString(env.ImageDigest) {
		// A platform may know the image only by tag; the record keeps
		// digests alone, since a tag names nothing fixed.
		env.ImageDigest = ""
	}
	return env
}

// gateOf is the gate's side of the record: compare.json's verdict with
// empty lists and maps rather than nulls, as the schema wants.
func gateOf(c *rundir.Compare) *Gate {
	g := &Gate{Champion: c.Champion, Checks: c.Checks, Comparable: c.Comparable, Warnings: c.Warnings}
	if g.Checks == nil {
		g.Checks = []rundir.Check{}
	}
	if g.Warnings == nil {
		g.Warnings = []string{}
	}
	if g.Champion != nil && g.Champion.Metrics == nil {
		champion := *g.Champion
		champion.Metrics = map[string]float64{}
		g.Champion = &champion
	}
	return g
}

// files lists the paths one side of the steps (inputs or outputs) names,
// once per path and digest, sorted.
func files(steps []rundir.Step, side func(rundir.Step) map[string]string, sizes map[string]int64) ([]File, error) {
	seen := map[File]bool{}
	list := []File{}
	for _, s := range steps {
		for p, digest := range side(s) {
			size, ok := sizes[p]
			if !ok {
				return nil, fmt.Errorf("no size known for %s", p)
			}
			f := File{Path: p, Digest: digest, Size: size}
			if !seen[f] {
				seen[f] = true
				list = append(list, f)
			}
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Path != list[j].Path {
			return list[i].Path < list[j].Path
		}
		return list[i].Digest < list[j].Digest
	})
	return list, nil
}

// codeExtensions mark an input file as code, not data, wherever it is.
var codeExtensions = map[string]bool{
	".py": true, ".ipynb": true, ".go": true, ".r": true, ".jl": true, ".js": true, ".mjs": true,
	".ts": true, ".sh": true, ".bash": true, ".java": true, ".scala": true, ".kt": true, ".rs": true,
	".c": true, ".cc": true, ".cpp": true, ".h": true, ".hpp": true, ".rb": true, ".sql": true,
	".toml": true, ".cfg": true, ".ini": true, ".lock": true, ".mod": true, ".sum": true,
}

// codeFiles are dependency manifests and lockfiles: code, not data.
var codeFiles = map[string]bool{
	"requirements.txt": true, "package.json": true, "package-lock.json": true, "yarn.lock": true,
	"pnpm-lock.yaml": true, "environment.yml": true, "conda-lock.yml": true, "Dockerfile": true,
	"Makefile": true, "podium.yaml": true,
}

// dataInputs picks the data among the inputs: the spec's evaluation data,
// and every input no step wrote that is not code. Code is what lies under
// a component's path (other than "."), a source file by its extension, or
// a dependency manifest or lockfile. So `podium log`'s DATA column changes
// when the data does, not when train.py does.
func dataInputs(inputs, outputs []File, code, evaluation []string) []File {
	var codeRoots []File
	for _, c := range code {
		if p := path.Clean(c); p != "." {
			codeRoots = append(codeRoots, File{Path: p})
		}
	}
	var evalRoots []File
	for _, e := range evaluation {
		evalRoots = append(evalRoots, File{Path: e})
	}
	var data []File
	for _, in := range inputs {
		p := path.Clean(in.Path)
		switch {
		case underAny(p, evalRoots):
			data = append(data, in)
		case underAny(p, outputs), underAny(p, codeRoots),
			codeExtensions[strings.ToLower(path.Ext(p))], codeFiles[path.Base(p)]:
		default:
			data = append(data, in)
		}
	}
	return data
}

// dataDigest names the data the run read (dataInputs). One input is named
// by its own digest, so that `podium fingerprint` on the same path gives
// the same value; several by the digest of their sha256sum-style listing.
func dataDigest(external []File) *string {
	switch len(external) {
	case 0:
		return nil
	case 1:
		return &external[0].Digest
	}
	h := sha256.New()
	for _, f := range external { // already sorted by path
		fmt.Fprintf(h, "%s  %s\n", strings.TrimPrefix(f.Digest, "sha256:"), f.Path)
	}
	d := "sha256:" + hex.EncodeToString(h.Sum(nil))
	return &d
}

// underAny reports whether p is one of the outputs or inside one.
func underAny(p string, outputs []File) bool {
	p = path.Clean(p)
	for _, o := range outputs {
		r := path.Clean(o.Path)
		if p == r || r == "." || strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	return false
}

func absoluteURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() {
		return ""
	}
	return s
}

// PrimaryMetric picks the metric `podium log` shows for a run: the one the
// first gate rule names, or for a glob its first match in byte order. It
// returns "" when there is no rule or nothing matches.
func PrimaryMetric(rulePatterns []string, metrics map[string]float64) string {
	if len(rulePatterns) == 0 {
		return ""
	}
	pattern := rulePatterns[0]
	if _, ok := metrics[pattern]; ok {
		return pattern
	}
	names := make([]string, 0, len(metrics))
	for name := range metrics {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if glob.Match(pattern, name) {
			return name
		}
	}
	return ""
}

// CheckRun reports what makes run.json unfit for a record: fields that
// are missing (in data, the file's bytes) or malformed. The error is a
// rundir.IncompleteError (invalid input, exit 2) whose Hint, the command
// to run, is the caller's to add.
func CheckRun(dir string, data []byte, run *rundir.Run) error {
	var problems []string
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return incomplete(dir, fmt.Errorf("not a JSON object: %w", err))
	}
	var missing []string
	for _, key := range []string{"model", "spec_digest", "params", "commit", "started_at", "finished_at", "steps", "metrics"} {
		v, ok := raw[key]
		if !ok || (string(v) == "null" && key != "params" && key != "metrics" && key != "steps") {
			missing = append(missing, key)
		}
	}
	if len(missing) > 0 {
		problems = append(problems, "missing fields: "+strings.Join(missing, ", "))
	}
	has := func(key string) bool { return raw[key] != nil && string(raw[key]) != "null" }
	if has("commit") && run.Commit == "" {
		// Not a damaged file: train ran where git could not name a commit.
		return &rundir.UnusableError{Dir: dir, Reason: "it names no commit: podium train ran outside a git repository, " +
			"or in one without a commit yet, and a record is tied to its commit (commit the project with git, then train again)"}
	}
	if has("model") && !namePattern().MatchString(run.Model) {
		problems = append(problems, fmt.Sprintf("model %q is not a model name (letters, digits, '.', '_', '-')", run.Model))
	}
	if has("commit") && !shaPattern().MatchString(run.Commit) {
		problems = append(problems, fmt.Sprintf("commit %q is not a full lowercase commit SHA", run.Commit))
	}
	if has("spec_digest") && !digestPattern().MatchString(run.SpecDigest) {
		problems = append(problems, fmt.Sprintf("spec_digest %q is not sha256:<64 hex digits>", run.SpecDigest))
	}
	if has("started_at") && run.StartedAt.IsZero() {
		problems = append(problems, "started_at is the zero time")
	}
	if has("finished_at") && run.FinishedAt.IsZero() {
		problems = append(problems, "finished_at is the zero time")
	}
	statuses := []string{rundir.StatusOK, rundir.StatusFailed, rundir.StatusSkipped, rundir.StatusCached, rundir.StatusTimeout, rundir.StatusInterrupted}
	for i, s := range run.Steps {
		where := fmt.Sprintf("steps[%d]", i)
		if !namePattern().MatchString(s.Name) {
			problems = append(problems, fmt.Sprintf("%s: name %q is not a step name", where, s.Name))
		} else {
			where = fmt.Sprintf("step %s", s.Name)
		}
		if !slices.Contains(statuses, s.Status) {
			problems = append(problems, fmt.Sprintf("%s: status %q is not one of %s", where, s.Status, strings.Join(statuses, ", ")))
		}
		if s.DurationS < 0 {
			problems = append(problems, fmt.Sprintf("%s: duration_s is negative", where))
		}
		for _, side := range []struct {
			name  string
			paths map[string]string
		}{{"inputs", s.Inputs}, {"outputs", s.Outputs}} {
			for _, p := range slices.Sorted(maps.Keys(side.paths)) {
				if p == "" {
					problems = append(problems, fmt.Sprintf("%s: %s: empty path", where, side.name))
				}
				if d := side.paths[p]; !digestPattern().MatchString(d) {
					problems = append(problems, fmt.Sprintf("%s: %s: %q: digest %q is not sha256:<64 hex digits>", where, side.name, p, d))
				}
			}
		}
	}
	if len(problems) > 0 {
		return incomplete(dir, errors.New(strings.Join(problems, "; ")))
	}
	return nil
}

func incomplete(dir string, err error) error {
	return &rundir.IncompleteError{Dir: dir, File: rundir.RunFile, Err: err}
}

// Marshal returns the record's canonical bytes, one line of compact JSON
// and a newline, after checking them against the record schema.
func (r *Record) Marshal() ([]byte, error) {
	return marshalValid(r, SchemaName)
}

// marshalValid encodes v compactly (map keys sorted, HTML left alone so
// metric names stay readable), decodes the bytes afresh and validates that
// against the schema: what is checked is exactly what is written.
func marshalValid(v any, schema string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("failed to encode the record: %w", err)
	}
	var decoded any
	if err := json.Unmarshal(buf.Bytes(), &decoded); err != nil {
		return nil, fmt.Errorf("failed to decode the encoded record: %w", err)
	}
	if err := schemas.Validate(schema, decoded); err != nil {
		return nil, fmt.Errorf("the record does not match %s: %w", schema, err)
	}
	return buf.Bytes(), nil
}

// Digest returns "sha256:<hex>" of data: the name a registry pointer or a
// CI output gives a record, computed over the exact bytes written.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Decode reads a record through the strict decoder podium's other
// documents use (strictjson.DecodeExtensible): duplicate keys, keys that
// differ from a field only in case and numbers a float64 cannot hold
// exactly are refused; so is a different schema_version. Fields it does
// not know are ignored (a newer podium may add some).
func Decode(data []byte) (*Record, error) {
	if len(data) > MaxSize {
		return nil, fmt.Errorf("record is %d bytes; at most %d are read", len(data), MaxSize)
	}
	var r Record
	if err := strictjson.DecodeExtensible("record", data, &r); err != nil {
		return nil, fmt.Errorf("not a podium record: %w", err)
	}
	if r.SchemaVersion != SchemaVersion {
		return nil, fmt.Errorf("record schema_version %d is not supported (this podium reads %d)", r.SchemaVersion, SchemaVersion)
	}
	if r.Model == "" || r.Commit.SHA == "" {
		return nil, errors.New("not a podium record: no model or commit")
	}
	return &r, nil
}

// FileName is the default name of a record file: it carries the model and
// the commit, so artifact stores list records by what they describe.
func FileName(model, commit, format string) string {
	short := commit
	if len(short) > 12 {
		short = short[:12]
	}
	ext := ".json"
	if format == FormatInToto {
		ext = ".intoto.json"
	}
	return "podium-record-" + model + "-" + short + ext
}

// Output formats.
const (
	FormatPodium = "podium"
	FormatInToto = "in-toto"
)

// Formats lists the output formats, for flag help and errors.
var Formats = []string{FormatPodium, FormatInToto}
