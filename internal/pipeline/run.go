// Package pipeline runs what a spec declares: each component's build and
// test commands, and the pipeline's steps as a DAG, concurrently where the
// DAG allows, with a step cache keyed by content digests. It writes the
// run directory (run.json and logs/<step>.log) and knows nothing of CI
// platforms, hosts or the command line: callers pass writers and hooks.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/podium-ml/podium/internal/data"
	"github.com/podium-ml/podium/internal/diag"
	"github.com/podium-ml/podium/internal/fingerprint"
	"github.com/podium-ml/podium/internal/metrics"
	"github.com/podium-ml/podium/internal/redact"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/spec"
	"github.com/podium-ml/podium/internal/statcache"
)

// Options configure Run.
type Options struct {
	Spec *spec.Spec
	// RunDir receives run.json and logs/; a relative path is relative to
	// the current directory.
	RunDir string
	// Force runs every step, cached or not.
	Force bool
	// Jobs bounds how many steps run at once; 0 means the number of CPUs.
	Jobs int
	// Environ is the environment steps inherit (KEY=VALUE), before the
	// PODIUM_ variables and the step's env are added. Token variables
	// (IsTokenVar) are dropped from it.
	Environ []string
	// Out receives the steps' output as it is written. When steps can run
	// concurrently each line is prefixed with "[step] ".
	Out io.Writer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Commit is recorded in run.json.
	Commit string
	// KillGrace is the time between SIGTERM and SIGKILL for a step that
	// times out or is interrupted; 0 means DefaultKillGrace.
	KillGrace time.Duration
	// Group, when set and steps run one at a time, wraps each step's
	// output in a collapsible log section.
	Group func(title string) (end func())
	// Logf, when set, receives progress lines ("train: cached").
	Logf func(format string, args ...any)
	// Warn, when set, receives each warning as it is found.
	Warn func(msg string)
	// Worktree and Environment are recorded in run.json as given.
	Worktree    *rundir.Worktree
	Environment *rundir.Environment
	// Remote, when set, is looked up after the local cache misses, and
	// receives the steps that ran when RemoteWrite is true (remote.go).
	Remote      Remote
	RemoteWrite bool
	// Step, when set, runs only that step, after restoring the steps it
	// needs from the caches (remote.go); run.json lists only these, and
	// the metrics file is not read.
	Step string
	// LockWait bounds the wait for another run of the same run directory
	// or workspace; 0 means DefaultLockWait.
	LockWait time.Duration
	// NoStatCache hashes every input and output in full, instead of taking
	// the digest of a file whose stat is unchanged from the stat cache
	// (<cache.path>/stat-cache).
	NoStatCache bool
}

// Result is what a run did.
type Result struct {
	Run      *rundir.Run
	RunDir   string
	CacheKey string
	Warnings []string
	// Data is the data check's result; nil when the spec has none or its
	// pass was cached (DataCached).
	Data       *data.Result
	DataCached bool
}

// StepsFailedError says some steps failed or timed out; run.json was
// written and tells which.
type StepsFailedError struct {
	Steps []rundir.Step
}

func (e *StepsFailedError) Error() string {
	parts := make([]string, len(e.Steps))
	for i, s := range e.Steps {
		switch {
		case s.Reason != "":
			parts[i] = fmt.Sprintf("%s (%s)", s.Name, s.Reason)
		case s.Status == rundir.StatusTimeout:
			parts[i] = s.Name + " (timed out)"
		default:
			parts[i] = fmt.Sprintf("%s (exit %d)", s.Name, s.ExitCode)
		}
	}
	return "pipeline failed: " + strings.Join(parts, ", ")
}

// InterruptedError says the run was cancelled (Ctrl-C, SIGTERM); running
// steps were stopped and run.json was written.
type InterruptedError struct{ Err error }

func (e *InterruptedError) Error() string {
	if errors.Is(e.Err, context.Canceled) {
		return "pipeline interrupted (Ctrl-C or SIGTERM)"
	}
	return "pipeline interrupted: " + e.Err.Error()
}
func (e *InterruptedError) Unwrap() error { return e.Err }

// runner is one run of a pipeline.
type runner struct {
	opts     Options
	spec     *spec.Spec
	dir      string // the spec's directory, absolute
	runDir   string // absolute
	boundary string // for fingerprints: the git work tree holding dir, else dir
	cache    stepCache
	jobs     int
	now      func() time.Time

	steps      []*node
	byName     map[string]*node
	params     map[string]string // rendered as the steps see them
	env        []string          // Environ + PODIUM_RUN_DIR + PODIUM_PARAM_*
	external   map[string]string // clean input path -> digest, for inputs no step writes
	concurrent bool              // whether two steps may run at once
	out        *syncWriter
	stat       *statcache.Cache // nil with NoStatCache

	// hmu guards what follows: the digests taken while no command ran,
	// valid until one starts, and the snapshot for undeclared writes,
	// taken just before the first command starts (a run where every step
	// is cached never walks the spec's directory).
	hmu      sync.Mutex
	gen      int // bumped when a command starts or ends
	commands int // commands running
	memo     map[string]memoDigest
	watch    *watcher
	before   snapshot // nil until the first command starts
	watchErr error

	warnings  []string
	dataCheck *rundir.DataCheck // the data check's summary, for run.json
	target    *node             // Options.Step's node, nil when the whole pipeline runs
}

type memoDigest struct {
	digest string
	gen    int
}

type nodeState int

const (
	pending nodeState = iota
	running
	done
)

type node struct {
	idx     int
	step    *spec.Step
	needs   []*node
	ances   map[*node]bool // every step this one depends on, directly or not
	state   nodeState
	result  rundir.Step
	inputs  []string // clean
	outputs []string // clean
}

// Run runs the pipeline and writes runDir/run.json. It checks the spec's
// inputs first: a missing one is invalid input (diag.List) and nothing
// runs. Once steps have started, run.json is written whatever happens,
// and the error says what failed: *StepsFailedError, *InterruptedError,
// or the metrics file's problem.
func Run(ctx context.Context, opts Options) (*Result, error) {
	r, err := newRunner(opts)
	if err != nil {
		return nil, err
	}
	if err := r.checkInputs(ctx); err != nil {
		return nil, err
	}
	return r.run(ctx)
}

func newRunner(opts Options) (*runner, error) {
	s := opts.Spec
	dir, err := filepath.Abs(s.Dir)
	if err != nil {
		return nil, fmt.Errorf("failed to resolve %s: %w", s.Dir, err)
	}
	runDir, err := filepath.Abs(opts.RunDir)
	if err != nil {
		return nil, fmt.Errorf("failed to resolve %s: %w", opts.RunDir, err)
	}
	cachePath := s.Cache.Path
	if cachePath == "" {
		cachePath = spec.DefaultCachePath
	}
	clean, err := fingerprint.Local(cachePath)
	if err != nil {
		return nil, specProblem(s, "cache.path", "%v", err)
	}
	r := &runner{
		opts:     opts,
		spec:     s,
		dir:      dir,
		runDir:   runDir,
		boundary: fingerprint.FindBoundary(dir),
		cache:    stepCache{dir: filepath.Join(dir, filepath.FromSlash(clean)), maxBytes: s.Cache.MaxBytes},
		jobs:     opts.Jobs,
		now:      opts.Now,
		byName:   map[string]*node{},
		params:   map[string]string{},
		memo:     map[string]memoDigest{},
	}
	if !opts.NoStatCache {
		r.stat = statcache.Open(filepath.Join(r.cache.dir, statcache.FileName))
	}
	if r.boundary == "" {
		r.boundary = dir
	}
	if r.cache.maxBytes <= 0 {
		r.cache.maxBytes, _ = spec.ParseSize(spec.DefaultCacheMaxSize)
	}
	if r.jobs <= 0 {
		r.jobs = runtime.NumCPU()
	}
	if r.now == nil {
		r.now = time.Now
	}
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	r.out = &syncWriter{w: out}

	for name, v := range s.Params {
		r.params[name] = ParamValue(v)
	}
	penv, err := paramEnv(s.Params)
	if err != nil {
		return nil, specProblem(s, "params", "%v", err)
	}
	r.env = append(StripTokens(opts.Environ), "PODIUM_RUN_DIR="+runDir)
	r.env = append(r.env, penv...)

	if err := spec.CheckGraph(s); err != nil {
		return nil, err
	}
	if err := r.buildGraph(); err != nil {
		return nil, err
	}
	r.resolveAncestors()
	if opts.Step != "" {
		if err := r.only(opts.Step); err != nil {
			return nil, err
		}
	}
	r.concurrent = r.jobs > 1 && r.hasIndependentSteps()
	return r, nil
}

// buildGraph makes a node per step, with its inputs and outputs cleaned
// and its needs resolved, and reports every problem found at once.
func (r *runner) buildGraph() error {
	s := r.spec
	var probs diag.List
	for i := range s.Pipeline {
		st := &s.Pipeline[i]
		n := &node{idx: i, step: st}
		for j, p := range st.Inputs {
			c, err := fingerprint.Local(p)
			if err != nil {
				probs = append(probs, problem(s, fmt.Sprintf("pipeline[%d].inputs[%d]", i, j), "%v", err))
			}
			n.inputs = append(n.inputs, c)
		}
		for j, p := range st.Outputs {
			c, err := fingerprint.Local(p)
			if err != nil {
				probs = append(probs, problem(s, fmt.Sprintf("pipeline[%d].outputs[%d]", i, j), "%v", err))
			}
			n.outputs = append(n.outputs, c)
		}
		r.byName[st.Name] = n
		r.steps = append(r.steps, n)
	}
	for _, n := range r.steps {
		for _, need := range n.step.Needs {
			n.needs = append(n.needs, r.byName[need])
		}
	}
	if len(probs) > 0 {
		return probs
	}
	return nil
}

// resolveAncestors fills every node's transitive dependencies; the graph
// has no cycle (spec.CheckGraph).
func (r *runner) resolveAncestors() {
	var visit func(n *node)
	visit = func(n *node) {
		if n.ances != nil {
			return
		}
		ances := map[*node]bool{}
		for _, d := range n.needs {
			visit(d)
			ances[d] = true
			maps.Copy(ances, d.ances)
		}
		n.ances = ances
	}
	for _, n := range r.steps {
		visit(n)
	}
}

func (r *runner) hasIndependentSteps() bool {
	for i, a := range r.steps {
		for _, b := range r.steps[i+1:] {
			if !a.ances[b] && !b.ances[a] {
				return true
			}
		}
	}
	return false
}

// overlaps reports whether a and b name the same path or one holds the other.
func overlaps(a, b string) bool {
	return a == b || a == "." || b == "." || strings.HasPrefix(a, b+"/") || strings.HasPrefix(b, a+"/")
}

// producers returns the steps whose outputs overlap the path p.
func (r *runner) producers(p string) []*node {
	var out []*node
	for _, n := range r.steps {
		for _, o := range n.outputs {
			if overlaps(p, o) {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// checkInputs runs before any step: every input that no step writes must
// exist (it is digested now, once, for the cache key). That a step needs
// the steps whose outputs it reads is spec.CheckGraph's.
func (r *runner) checkInputs(ctx context.Context) error {
	r.external = map[string]string{}
	var probs diag.List
	var other []error
	for i, n := range r.steps {
		for j, in := range n.inputs {
			field := fmt.Sprintf("pipeline[%d].inputs[%d]", i, j)
			if len(r.producers(in)) > 0 {
				continue
			}
			if _, ok := r.external[in]; ok {
				continue
			}
			d, err := r.digest(ctx, in)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				probs = append(probs, problem(r.spec, field,
					"step %q: input %q does not exist, and no step writes it", n.step.Name, n.step.Inputs[j]))
			case err != nil:
				other = append(other, fmt.Errorf("step %q: input %q: %w", n.step.Name, n.step.Inputs[j], err))
			default:
				r.external[in] = d
			}
		}
	}
	if len(probs) > 0 {
		return probs
	}
	return errors.Join(other...)
}

// digest fingerprints the spec-relative path clean. A path is hashed at
// most once while no command runs: a digest taken with no command running
// stays valid until one starts, so the output a cached step checks is not
// hashed again as the input of the next step.
func (r *runner) digest(ctx context.Context, clean string) (string, error) {
	r.hmu.Lock()
	gen, quiet := r.gen, r.commands == 0
	if m, ok := r.memo[clean]; ok && quiet && m.gen == gen {
		r.hmu.Unlock()
		return m.digest, nil
	}
	r.hmu.Unlock()
	if digestHook != nil {
		digestHook(clean)
	}
	res, err := fingerprint.Compute(ctx, filepath.Join(r.dir, filepath.FromSlash(clean)), &fingerprint.Options{Boundary: r.boundary, StatCache: r.stat})
	if err != nil {
		return "", err
	}
	r.hmu.Lock()
	if quiet && r.commands == 0 && r.gen == gen {
		r.memo[clean] = memoDigest{res.Digest, gen}
	}
	r.hmu.Unlock()
	return res.Digest, nil
}

// digestHook, set by tests, sees every path digest hashes.
var digestHook func(clean string)

// commandStarting is called just before a step's command starts: the
// first one snapshots the spec's directory for undeclared writes, and
// every one ends the digests remembered so far.
func (r *runner) commandStarting() {
	r.hmu.Lock()
	defer r.hmu.Unlock()
	if r.watch != nil && r.before == nil && r.watchErr == nil {
		before, err := r.watch.take()
		if err != nil {
			r.watchErr = err
		} else {
			r.before = before
		}
	}
	r.commands++
	r.gen++
}

// forgetDigests ends the digests remembered so far: podium itself has
// written into the workspace (outputs restored from a cache), so a digest
// taken before may describe bytes that are gone.
func (r *runner) forgetDigests() {
	r.hmu.Lock()
	defer r.hmu.Unlock()
	r.gen++
}

// commandEnded is called when a step's command has exited.
func (r *runner) commandEnded() {
	r.hmu.Lock()
	defer r.hmu.Unlock()
	r.commands--
	r.gen++
}

// checkWrites warns about files that changed outside the declared outputs
// since the last check, now that step n, which ran its command, is done.
func (r *runner) checkWrites(n *node) {
	r.hmu.Lock()
	before, err := r.before, r.watchErr
	r.hmu.Unlock()
	if r.watch == nil {
		return
	}
	if err == nil && before == nil {
		return // no command ran: the step failed before it started
	}
	var after snapshot
	if err == nil {
		after, err = r.watch.take()
	}
	if err != nil {
		r.warn(fmt.Sprintf("not checking for writes outside declared outputs: %v under %s", err, r.dir))
		r.hmu.Lock()
		r.watch = nil
		r.hmu.Unlock()
		return
	}
	if paths := changed(before, after); len(paths) > 0 {
		r.warnUndeclared(n, paths)
	}
	r.hmu.Lock()
	r.before = after
	r.hmu.Unlock()
}

// CacheKey is the run's cache key (see the package-level CacheKey).
func (r *runner) cacheKey() string {
	return CacheKey(r.spec, r.params, r.external)
}

// logf and warn hold the output's lock: their lines go to the same
// stream as the steps' output, and must not land in the middle of a line.
func (r *runner) logf(format string, args ...any) {
	if r.opts.Logf != nil {
		r.out.mu.Lock()
		defer r.out.mu.Unlock()
		r.opts.Logf(format, args...)
	}
}

func (r *runner) warn(msg string) {
	r.warnings = append(r.warnings, msg)
	if r.opts.Warn != nil {
		r.out.mu.Lock()
		defer r.out.mu.Unlock()
		r.opts.Warn(msg)
	}
}

type finished struct {
	n      *node
	result rundir.Step
}

func (r *runner) run(ctx context.Context) (*Result, error) {
	res := &Result{RunDir: r.runDir, CacheKey: r.cacheKey()}
	run := r.newRun()
	res.Run = run

	release, err := r.claim(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	// The data check runs under the claim: it writes a cache entry, and a
	// failure must not leave the previous run's run.json looking current.
	if res.Data, res.DataCached, err = r.checkData(ctx); err != nil {
		return nil, err
	}
	run.Data = r.dataCheck

	r.watch = newWatcher(r.dir, r.watchSkips())
	r.schedule(ctx)
	if err := r.stat.Save(); err != nil {
		r.warn(err.Error())
	}
	for _, n := range r.steps {
		if n.state == pending {
			n.state = done
			n.result = skipped(n)
		}
		run.Steps = append(run.Steps, n.result)
	}

	runErr := r.runError(ctx, run)
	if runErr != nil {
		run.Failure = runErr.Error()
	}
	if _, _, err := r.cache.gc(time.Now()); err != nil {
		r.warn(fmt.Sprintf("failed to trim the step cache %s: %v", r.cache.dir, err))
	}
	run.FinishedAt = r.now().UTC()
	res.Warnings = r.warnings
	if err := rundir.WriteRun(r.runDir, run); err != nil {
		return res, errors.Join(runErr, err)
	}
	return res, runErr
}

// newRun starts run.json's record.
func (r *runner) newRun() *rundir.Run {
	run := &rundir.Run{
		Model:       r.spec.Model,
		SpecDigest:  r.spec.Digest,
		Params:      map[string]any{},
		Commit:      r.opts.Commit,
		StartedAt:   r.now().UTC(),
		Steps:       []rundir.Step{},
		Metrics:     map[string]float64{},
		Worktree:    r.opts.Worktree,
		Environment: r.opts.Environment,
	}
	// run.json is uploaded as an artifact and read into reports: a param
	// shaped like a token (put there by mistake) is masked, as the record
	// masks it. The steps still see the real value.
	for name, v := range r.spec.Params {
		if redact.LooksLikeToken(name) || redact.LooksLikeToken(ParamValue(v)) {
			v = redact.Mask
		}
		run.Params[name] = v
	}
	return run
}

// schedule runs the steps, up to r.jobs at once, each once its needs are
// done; a step whose need failed is skipped.
func (r *runner) schedule(ctx context.Context) {
	results := make(chan finished)
	active := 0
	for {
		for progressed := true; progressed; {
			progressed = false
			for _, n := range r.steps {
				if n.state != pending {
					continue
				}
				if dep := failedNeed(n); dep != nil {
					n.state = done
					n.result = skipped(n)
					r.logf("%s: skipped (%s %s)", n.step.Name, dep.step.Name, dep.result.Status)
					progressed = true
					continue
				}
				if ctx.Err() != nil || active >= r.jobs || !needsDone(n) {
					continue
				}
				n.state = running
				active++
				go func() { results <- finished{n, r.execStep(ctx, n)} }()
			}
		}
		if active == 0 {
			return
		}
		f := <-results
		active--
		f.n.state = done
		f.n.result = f.result
		if f.result.Status != rundir.StatusCached && f.result.Status != rundir.StatusSkipped {
			r.checkWrites(f.n)
		}
	}
}

// runError returns the run's error (interrupted, steps failed, metrics
// unreadable), and reads the metrics into run when there is none.
func (r *runner) runError(ctx context.Context, run *rundir.Run) error {
	var failed []rundir.Step
	for _, s := range run.Steps {
		if s.Status == rundir.StatusFailed || s.Status == rundir.StatusTimeout || s.Status == rundir.StatusInterrupted {
			failed = append(failed, s)
		}
	}
	switch {
	case ctx.Err() != nil:
		return &InterruptedError{Err: ctx.Err()}
	case len(failed) > 0:
		return &StepsFailedError{Steps: failed}
	case r.spec.Metrics != "" && r.target == nil:
		m, err := r.readMetrics()
		if err != nil {
			return err
		}
		run.Metrics = m
	}
	return nil
}

func (r *runner) watchSkips() []string {
	skips := []string{".git", ".podium"}
	for _, abs := range []string{r.cache.dir, r.runDir} {
		if rel, err := filepath.Rel(r.dir, abs); err == nil && filepath.IsLocal(rel) {
			skips = append(skips, filepath.ToSlash(rel))
		}
	}
	for _, n := range r.steps {
		skips = append(skips, n.outputs...)
	}
	return skips
}

func (r *runner) warnUndeclared(n *node, paths []string) {
	who := fmt.Sprintf("step %q", n.step.Name)
	var others []string
	for _, o := range r.steps {
		if o.state == running {
			others = append(others, fmt.Sprintf("%q", o.step.Name))
		}
	}
	if len(others) > 0 {
		who = fmt.Sprintf("one of steps %q, %s", n.step.Name, strings.Join(others, ", "))
	}
	shown := paths
	if len(shown) > 10 {
		shown = append(slices.Clip(shown[:10]), fmt.Sprintf("and %d more", len(paths)-10))
	}
	r.warn(fmt.Sprintf("%s changed files outside its declared outputs: %s (declare them in outputs, or write scratch files under $PODIUM_RUN_DIR or $TMPDIR)",
		who, strings.Join(shown, ", ")))
}

func (r *runner) readMetrics() (map[string]float64, error) {
	clean, err := fingerprint.Local(r.spec.Metrics)
	if err != nil {
		return nil, specProblem(r.spec, "metrics", "%v", err)
	}
	m, err := metrics.ReadFile(filepath.Join(r.dir, filepath.FromSlash(clean)))
	if err != nil {
		return nil, err
	}
	if len(m.Skipped) > 0 {
		r.warn(fmt.Sprintf("%s: ignored values that are not numbers: %s", r.spec.Metrics, strings.Join(m.Skipped, ", ")))
	}
	out := map[string]float64{}
	maps.Copy(out, m.Metrics)
	return out, nil
}

func failedNeed(n *node) *node {
	for _, d := range n.needs {
		if d.state == done {
			switch d.result.Status {
			case rundir.StatusFailed, rundir.StatusTimeout, rundir.StatusInterrupted, rundir.StatusSkipped:
				return d
			}
		}
	}
	return nil
}

func needsDone(n *node) bool {
	for _, d := range n.needs {
		if d.state != done {
			return false
		}
	}
	return true
}

func skipped(n *node) rundir.Step {
	return rundir.Step{Name: n.step.Name, Status: rundir.StatusSkipped, ExitCode: -1,
		Inputs: map[string]string{}, Outputs: map[string]string{}}
}

func problem(s *spec.Spec, field, format string, args ...any) *diag.Error {
	return &diag.Error{File: s.File, Field: field, Msg: fmt.Sprintf(format, args...), Kind: "pipeline"}
}

func specProblem(s *spec.Spec, field, format string, args ...any) error {
	return diag.List{problem(s, field, format, args...)}
}
