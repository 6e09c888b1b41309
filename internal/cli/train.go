package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/git"
	"github.com/podium-ml/podium/internal/pipeline"
	"github.com/podium-ml/podium/internal/provenance"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/spec"
)

type trainOptions struct {
	IO       *IOStreams
	Platform func() ci.Platform
	Environ  func() []string

	SpecPath string
	RunDir   string
	Force    bool
	Jobs     int
	JSON     bool

	// Step runs one step of a fanned-out plan (podium plan).
	Step        string
	Remote      remoteOptions
	NoStatCache bool
}

// trainLong is train's help.
var trainLong = heredoc(`
			Run the spec's pipeline steps as a DAG: each step after the steps it
			needs, independent steps at the same time (up to --jobs), each through
			sh -c in the spec's directory. A step sees PODIUM_RUN_DIR, PODIUM_STEP,
			PODIUM_PARAM_<NAME> for every param, and its own env, but not the job's
			tokens (GITHUB_TOKEN, GH_TOKEN, INPUT_*TOKEN*, GITLAB_TOKEN, CI_JOB_TOKEN,
			PODIUM_TRIGGER_TOKEN, ACTIONS_* tokens): podium uses them, the pipeline
			runs your code and has no need of them. Its output is
			streamed (prefixed with [step] when steps run concurrently) and kept in
			<run-dir>/logs/<step>.log. A step's timeout stops its whole process
			group; Ctrl-C or SIGTERM stops every running step, and run.json is
			written either way. If podium itself is killed, its steps die with it,
			and the previous run.json stays until a run completes.

			Runs in one workspace take turns: a second train waits (up to 30
			minutes, saying so) for the first to finish. A run directory or cache
			directory that is a symbolic link is refused (see docs/security.md).

			A failed step skips the steps that need it, not its independent
			siblings. Before anything runs, every input no step writes must exist.

			A step is cached (not run) when its command, env, params and input
			digests match one of its entries in the cache directory (cache.path,
			default .podium/cache). Only the params a step lists in its params:
			enter its key (a step without params: uses them all). The cache keeps
			an entry per key, so going back to an earlier state is a hit, and it
			stores the outputs by content: a hit whose outputs are missing or
			changed restores them. It is kept under cache.max_size (default 5GB),
			least recently used entries first. --force runs every step. Inputs are
			compared by content: a dependency that re-ran and wrote the same bytes
			leaves its dependents cached. Persist the cache directory between CI
			runs (actions/cache, GitLab cache:) under the `+"`cache-key`"+` output.

			With cache.remote (or --cache-remote) set to an OCI repository
			(oci://host/repository), a step the local cache misses is looked up
			there, its outputs restored and checked against their digests; a step
			that ran is pushed there, but only by a run on the default branch or a
			protected ref, never for a pull request, unless --cache-write says
			otherwise. --step NAME runs one step after restoring the steps it needs
			(one job of podium plan). See docs/remote-cache.md.

			<run-dir>/run.json records the model, the spec digest, params, commit,
			whether the git work tree matched the commit (and which tracked files
			did not), the lockfiles and runtime versions a reproduction needs, each
			step's status (ok, failed, skipped, cached, timeout, interrupted), exit
			code, duration, reason and input and output digests, the metrics file
			read after the last step, and why the run failed. The default run
			directory is .podium/run next to the spec. CI outputs: `+"`run-dir`, `cache-key`, `result`"+` (success or failure).`) + "\n\n" + statCacheHelp + "\n\n" + exitCodesHelp

func newCmdTrain(f *Factory, runF func(*trainOptions) error) *cobra.Command {
	opts := &trainOptions{IO: f.IO, Platform: f.Platform, Environ: os.Environ,
		Remote: remoteOptions{Getenv: f.Getenv, Secrets: f.Secrets}}
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Run the pipeline's steps and write run.json",
		Long:  trainLong,
		Example: heredoc(`
			$ podium train
			$ podium train --spec examples/weather/podium.yaml --run-dir /tmp/run --jobs 2
			$ podium train --force --json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Jobs < 0 {
				return flagErrorf("invalid --jobs %d: use a positive number, or 0 for one per CPU", opts.Jobs)
			}
			if cmd.Flags().Changed("cache-write") {
				w, _ := cmd.Flags().GetBool("cache-write")
				opts.Remote.Write = &w
			}
			if runF != nil {
				return runF(opts)
			}
			return runTrain(cmd.Context(), opts)
		},
	}
	addSpecFlag(cmd, &opts.SpecPath)
	cmd.Flags().StringVar(&opts.RunDir, "run-dir", "", "write run.json and logs/ to `directory` (default: .podium/run next to the spec)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "run every step, ignoring the cache")
	cmd.Flags().IntVar(&opts.Jobs, "jobs", 0, "run up to `n` steps at once (default: one per CPU)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print run.json, with run_dir and cache_key, as one JSON document")
	cmd.Flags().StringVar(&opts.Step, "step", "", "run only `step`, restoring the steps it needs from the caches (a job of podium plan)")
	cmd.Flags().StringVar(&opts.Remote.Remote, "cache-remote", "", "use the OCI repository `oci://host/repository` as the remote cache instead of the spec's cache.remote")
	cmd.Flags().Bool("cache-write", false, "push the steps that ran to the remote cache whatever the CI context (default: only on the default branch or a protected ref, never for a pull request)")
	addNoStatCacheFlag(cmd, &opts.NoStatCache)
	return cmd
}

// trainResult is what `train --json` prints: run.json plus where it is and
// the cache key.
type trainResult struct {
	RunDir   string `json:"run_dir"`
	CacheKey string `json:"cache_key"`
	*rundir.Run
}

func runTrain(ctx context.Context, opts *trainOptions) error {
	s, err := spec.Load(opts.SpecPath)
	if err != nil {
		return err
	}
	if len(s.Pipeline) == 0 {
		return inputErrorf("%s: pipeline: no steps to run", opts.SpecPath)
	}
	runDir := opts.RunDir
	if runDir == "" {
		runDir = filepath.Join(s.Dir, filepath.FromSlash(defaultRunDir))
	}
	if err := checkRunDir(runDir); err != nil {
		return err
	}
	platform := opts.Platform()
	errOut := opts.IO.ErrOut
	remote, remoteWrite, err := openRemote(ctx, opts.Remote, s, platform, errOut)
	if err != nil {
		return err
	}
	fmt.Fprintf(errOut, "podium: training %s; run directory %s\n", escapeControl(s.Model), escapeControl(runDir))

	// The steps run the PR's code: their output must not issue workflow
	// commands or log sections.
	relay := platform.Relay(errOut)
	res, runErr := pipeline.Run(ctx, pipelineOptions(ctx, opts, s, runDir, platform, relay, remote, remoteWrite))
	relay.Close()
	if rejected := (*pipeline.DataRejectedError)(nil); errors.As(runErr, &rejected) {
		// The violations, before the one-line error: no step ran.
		fmt.Fprint(errOut, DataText(rejected.Result))
		if err := platform.AppendSummary(DataSummary(rejected.Result)); err != nil {
			return errors.Join(runErr, err)
		}
		if err := platform.SetOutput("result", "failure"); err != nil {
			return errors.Join(runErr, err)
		}
	}
	if res == nil {
		return runErr
	}

	result := "success"
	if runErr != nil {
		result = "failure"
	}
	for _, o := range [][2]string{{"run-dir", res.RunDir}, {"cache-key", res.CacheKey}, {"result", result}} {
		if err := platform.SetOutput(o[0], o[1]); err != nil {
			return errors.Join(runErr, err)
		}
	}
	if err := platform.AppendSummary(trainSummary(res)); err != nil {
		return errors.Join(runErr, err)
	}

	if opts.JSON {
		if err := writeJSON(opts.IO.Out, trainResult{RunDir: res.RunDir, CacheKey: res.CacheKey, Run: res.Run}); err != nil {
			return errors.Join(runErr, err)
		}
		return runErr
	}
	if err := printStepTable(opts.IO.Out, res); err != nil {
		return errors.Join(runErr, err)
	}
	return runErr
}

// pipelineOptions are the pipeline's options for a train run: steps'
// output goes through relay, warnings become CI annotations.
func pipelineOptions(ctx context.Context, opts *trainOptions, s *spec.Spec, runDir string, platform ci.Platform, relay io.WriteCloser, remote pipeline.Remote, remoteWrite bool) pipeline.Options {
	errOut := opts.IO.ErrOut
	environ := opts.Environ()
	worktree := provenance.Worktree(ctx, s.Dir)
	if worktree != nil && !worktree.Clean {
		platform.Annotate(ci.Annotation{Level: ci.LevelWarning, File: opts.SpecPath, Title: "podium train",
			Message: fmt.Sprintf("the work tree differs from the commit (%s): the run records it, and propose refuses such a candidate without --allow-dirty",
				changedList(worktree))})
	}
	root := ""
	if repo, err := git.Open(ctx, s.Dir); err == nil {
		root = repo.Dir
	}
	return pipeline.Options{
		Spec:        s,
		RunDir:      runDir,
		Force:       opts.Force,
		Jobs:        opts.Jobs,
		Environ:     environ,
		Worktree:    worktree,
		Environment: provenance.Environment(ctx, s.Dir, root, environ),
		Remote:      remote,
		RemoteWrite: remoteWrite,
		Step:        opts.Step,
		Out:         relay,
		Commit:      commitOf(ctx, platform, s.Dir),
		Group:       platform.Group,

		NoStatCache: opts.NoStatCache,
		Logf: func(format string, args ...any) {
			fmt.Fprintf(errOut, "podium: "+format+"\n", args...)
		},
		Warn: func(msg string) {
			platform.Annotate(ci.Annotation{Level: ci.LevelWarning, File: opts.SpecPath, Title: "podium train", Message: msg})
		},
	}
}

// commitOf is the commit the pipeline runs on: the CI job's, else git's
// HEAD in the spec's directory, else "" (not a repository, or no commit).
func commitOf(ctx context.Context, p ci.Platform, dir string) string {
	if c := p.Run().Commit; c != "" {
		return c
	}
	repo, err := git.Open(ctx, dir)
	if err != nil {
		return ""
	}
	head, err := repo.Head(ctx)
	if err != nil {
		return ""
	}
	return head
}

func printStepTable(w io.Writer, res *pipeline.Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tSTATUS\tEXIT\tDURATION\tNOTE")
	for _, st := range res.Run.Steps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2fs\t%s\n", st.Name, st.Status, exitText(st), st.DurationS, stepNote(st))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "wrote %s\n", escapeControl(filepath.Join(res.RunDir, rundir.RunFile)))
	return err
}

// stepNote says why a step failed, or what a cached step's outputs cost
// when they were made.
func stepNote(st rundir.Step) string {
	switch {
	case st.Reason != "":
		return escapeControl(st.Reason)
	case st.CachedFrom != nil:
		return fmt.Sprintf("made in %.2fs on %s", st.CachedFrom.DurationS, st.CachedFrom.FinishedAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	return ""
}

func exitText(st rundir.Step) string {
	if st.ExitCode < 0 {
		return "-"
	}
	return fmt.Sprint(st.ExitCode)
}

// trainSummary is the step summary: one row per step.
func trainSummary(res *pipeline.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### podium train: %s\n\n", res.Run.Model)
	b.WriteString("| step | status | exit code | duration |\n|---|---|---:|---:|\n")
	for _, st := range res.Run.Steps {
		fmt.Fprintf(&b, "| %s | %s | %s | %.2f s |\n", st.Name, st.Status, exitText(st), st.DurationS)
	}
	fmt.Fprintf(&b, "\nCache key: `%s`\n", res.CacheKey)
	return b.String()
}
