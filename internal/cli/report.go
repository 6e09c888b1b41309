package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/atomicfile"
	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/registry"
	"github.com/podium-ml/podium/internal/report"
	"github.com/podium-ml/podium/internal/rundir"
	"github.com/podium-ml/podium/internal/scm"
	"github.com/podium-ml/podium/internal/spec"
)

type reportOptions struct {
	IO       *IOStreams
	Platform func() ci.Platform
	Host     func(ctx context.Context) (scm.Host, error)

	SpecPath string
	RunDir   string
	Out      string
	Comment  bool
	PR       int
	JSON     bool

	commentOptions
}

// reportResult is what `report --json` prints.
type reportResult struct {
	SchemaVersion int    `json:"schema_version"`
	Model         string `json:"model"`
	Decision      string `json:"decision"`
	// Report is the file --out wrote; null without --out.
	Report *string `json:"report"`
	// CommentURL is the comment --comment created or updated; null without --comment.
	CommentURL *string `json:"comment_url"`
	// Markdown is the whole report, before any cut to fit a comment.
	Markdown string `json:"markdown"`
}

func newCmdReport(f *Factory, runF func(*reportOptions) error) *cobra.Command {
	opts := &reportOptions{IO: f.IO, Platform: f.Platform, Host: f.Host}
	cmd := &cobra.Command{
		Use:   "report --run-dir <dir> [flags]",
		Short: "Render the gate's decision as the pull request's review report",
		Long: heredoc(`
			Render <dir>/compare.json (written by podium compare --run-dir) as the
			Markdown a reviewer reads on the pull request: the verdict and why,
			the metric table with deltas and rules, warnings, a chart of the
			primary metric across champions, then the params that changed, the
			data and artifact digests and the steps, folded away.

			Names from the repository (metrics, params, branches, commit messages)
			are escaped: they cannot break the table, ping people, add links or
			HTML, or forge the hidden marker that starts the report.

			Without --out or --comment the Markdown is printed; with --json, one
			JSON document holds the decision, the paths and the Markdown. --comment creates
			the pull request comment, or edits the one podium made before (found by
			its marker), so reruns do not pile up comments; a report longer than
			the host's limit is cut, with a link to the CI run. When the token may
			not comment (a fork's read-only GITHUB_TOKEN, a GitLab CI_JOB_TOKEN) the
			report goes to the step summary or job log with one notice, and the
			command succeeds unless --require-comment. PODIUM_BOT_LOGIN names the
			account podium comments as, when the token cannot tell.

			--from-artifact publishes a fork's review from a workflow_run job: the
			run directory is the untrusted artifact of the pull_request run, and
			the pull request and head commit come from the workflow_run event, and
			the decision is made again from the artifact's run.json with this
			checkout's gate rules and champion (docs/tokens.md). CI outputs:
			`+"`decision`"+`, `+"`report`"+` (with --out) and `+"`comment-url`"+` (with --comment).`) + "\n\n" + exitCodesHelp,
		Example: heredoc(`
			$ podium report --run-dir .podium/run
			$ podium report --run-dir .podium/run --out report.md
			$ podium report --run-dir .podium/run --comment
			$ podium report --run-dir .podium/run --json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.RunDir == "" {
				return flagError(cmd, errors.New("specify the run directory with --run-dir"))
			}
			if opts.PR < 0 {
				return flagError(cmd, fmt.Errorf("invalid --pr %d: use the pull request's number", opts.PR))
			}
			if runF != nil {
				return runF(opts)
			}
			return withTimeout(cmd.Context(), opts.Timeout, func(ctx context.Context) error {
				if opts.FromArtifact {
					return runPublish(ctx, opts)
				}
				return runReport(ctx, opts)
			})
		},
	}
	addSpecFlag(cmd, &opts.SpecPath)
	cmd.Flags().StringVar(&opts.RunDir, "run-dir", "", "read compare.json and run.json from `directory`")
	cmd.Flags().StringVar(&opts.Out, "out", "", "write the Markdown to `file` instead of printing it")
	cmd.Flags().BoolVar(&opts.Comment, "comment", false, "create or update the report comment on the pull request")
	cmd.Flags().IntVar(&opts.PR, "pr", 0, "comment on pull request `number` (default: the CI job's)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result and the Markdown as one JSON document")
	addCommentFlags(cmd, f, &opts.commentOptions)
	return cmd
}

func runReport(ctx context.Context, opts *reportOptions) error {
	if err := checkRunDir(opts.RunDir); err != nil {
		return err
	}
	if opts.Out != "" {
		if err := checkOutputFile("--out", opts.Out); err != nil {
			return err
		}
	}
	s, err := spec.Load(opts.SpecPath)
	if err != nil {
		return err
	}
	platform := opts.Platform()
	pr := opts.PR
	if pr == 0 {
		pr = platform.Run().PullRequest
	}
	if opts.Comment && pr == 0 {
		return &FlagError{Err: errors.New("--comment needs a pull request: run in a pull request or merge request job, or pass --pr"), Command: "podium report"}
	}

	doc, err := rundir.ReadCompare(opts.RunDir)
	if err != nil {
		return err
	}
	if doc.Model != s.Model {
		return inputErrorf("%s: model %q is not the spec's model %q", filepath.Join(opts.RunDir, rundir.CompareFile), doc.Model, s.Model)
	}
	// After compare --candidate there was no training run: no run.json.
	var run *rundir.Run
	if _, err := os.Stat(filepath.Join(opts.RunDir, rundir.RunFile)); !errors.Is(err, fs.ErrNotExist) {
		if run, err = rundir.ReadRun(opts.RunDir); err != nil {
			return err
		}
		if err := run.Usable(opts.RunDir); err != nil {
			return err
		}
	}

	champ := reportChampion(ctx, s, platform, doc, opts.IO.ErrOut)
	candDigests, _ := candidateDigests(ctx, s, run, false, opts.IO.ErrOut)
	md := report.Render(reportInput(s, platform, doc, run, candDigests, &champ))

	if err := platform.SetOutput("decision", doc.Decision); err != nil {
		return err
	}
	res := reportResult{SchemaVersion: 1, Model: doc.Model, Decision: doc.Decision, Markdown: md}
	if opts.Out != "" {
		if err := atomicfile.WriteFile(opts.Out, []byte(md), 0o644); err != nil {
			return err
		}
		if err := platform.SetOutput("report", opts.Out); err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.ErrOut, "wrote %s\n", escapeControl(opts.Out))
		res.Report = &opts.Out
	}
	if opts.Comment {
		url, err := postReport(ctx, opts, platform, pr, doc.Model, md)
		if err != nil {
			return err
		}
		if url != "" {
			res.CommentURL = &url
		}
		if !opts.JSON && url != "" {
			_, err = fmt.Fprintln(opts.IO.Out, safeLine(url))
			return err
		}
	}
	switch {
	case opts.JSON:
		return writeJSON(opts.IO.Out, res)
	case opts.Out == "" && !opts.Comment:
		_, err := io.WriteString(opts.IO.Out, md)
		return err
	}
	return nil
}

// postReport creates or updates the PR/MR comment that holds the report's
// marker, and returns its URL; "" when the token may not comment and the
// report went to the step summary instead (see commentFailed).
func postReport(ctx context.Context, opts *reportOptions, platform ci.Platform, pr int, model, md string) (string, error) {
	host, err := opts.Host(ctx)
	if err != nil {
		return "", err
	}
	body := report.Truncate(md, report.MaxCommentLength, platform.Run().RunURL)
	c, err := host.UpsertComment(ctx, pr, report.Marker(model), body)
	if err != nil {
		return "", commentFailed(opts.IO, platform, &opts.commentOptions, pr, md, err)
	}
	if err := platform.SetOutput("comment-url", c.URL); err != nil {
		return "", err
	}
	verb := "updated"
	if c.Created {
		verb = "created"
	}
	fmt.Fprintf(opts.IO.ErrOut, "%s the report comment on pull request %d\n", verb, pr)
	return c.URL, nil
}

// reportChampion re-reads the champion compare.json names, for what
// compare.json does not keep (params, digests, history). The report is
// still worth posting without them, so problems become stderr warnings.
func reportChampion(ctx context.Context, s *spec.Spec, platform ci.Platform, doc *rundir.Compare, errOut io.Writer) championSide {
	var side championSide
	reg, err := registry.OpenGit(ctx, s.Dir, s.Registry.Path, platform.Run().DefaultBranch)
	if err != nil {
		fmt.Fprintf(errOut, "warning: the report shows no champion history: %s\n", escapeControl(err.Error()))
		return side
	}
	// compare looked the champion up as the default branch's spec names it.
	model := s.Model
	if b := doc.Baseline; b != nil {
		model, reg.Dir = b.Model, b.Registry
	}
	if doc.Champion != nil {
		c, err := reg.Champion(ctx, model)
		switch {
		case err != nil:
			fmt.Fprintf(errOut, "warning: the report shows no champion details: %s\n", escapeControl(err.Error()))
		case c.Pointer != nil && c.Pointer.Version == doc.Champion.Version:
			side.pointer, side.source = c.Pointer, c.Source
		}
	}
	if side.history, err = reg.History(ctx, model, historyLimit); err != nil {
		fmt.Fprintf(errOut, "warning: the report shows no champion history: %s\n", escapeControl(err.Error()))
	}
	return side
}
