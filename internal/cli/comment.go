package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/scm"
)

// defaultHostTimeout bounds a command that talks to the code host, every
// call, retry and wait included. Each attempt has its own budget in the
// HTTP client; this one keeps a dozen slow calls from outrunning the job.
const defaultHostTimeout = 5 * time.Minute

// commentOptions are report's flags about posting the comment.
type commentOptions struct {
	// RequireComment fails the command when the token may not comment,
	// instead of keeping the report in the step summary.
	RequireComment bool
	// FromArtifact publishes a run directory downloaded from an untrusted
	// pull_request run (see runPublish).
	FromArtifact bool
	Timeout      time.Duration
	// Getenv reads the workflow_run event's path (--from-artifact).
	Getenv func(string) string
}

func addCommentFlags(cmd *cobra.Command, f *Factory, o *commentOptions) {
	o.Getenv = f.Getenv
	cmd.Flags().BoolVar(&o.RequireComment, "require-comment", false,
		"fail when the token may not comment (default: keep the report in the step summary, print a notice and exit 0)")
	cmd.Flags().BoolVar(&o.FromArtifact, "from-artifact", false,
		"publish --run-dir, downloaded from a pull_request run, from a workflow_run job: check it, then post the comment and the podium/gate status")
	addTimeoutFlag(cmd, &o.Timeout)
}

// addTimeoutFlag adds --timeout to a command that talks to the code host.
func addTimeoutFlag(cmd *cobra.Command, d *time.Duration) {
	cmd.Flags().DurationVar(d, "timeout", defaultHostTimeout,
		"give up after `duration` (e.g. 90s, 10m), every call to the code host, retry and wait included")
}

// withTimeout runs run under a deadline d from now, and says so when the
// deadline is what ended it.
func withTimeout(ctx context.Context, d time.Duration, run func(context.Context) error) error {
	if d <= 0 {
		return flagErrorf("invalid --timeout %s: want a positive duration such as 90s or 10m", d)
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	err := run(ctx)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("gave up after --timeout %s: %w", d, err)
	}
	return err
}

// commentFailed keeps the report where the job shows it when the comment
// could not be posted: the step summary (GitHub), and the job log
// elsewhere. A token that may not comment (a fork's read-only
// GITHUB_TOKEN, a GitLab CI_JOB_TOKEN) is then no failure: one notice
// says why and what to configure, and the command succeeds unless
// --require-comment. Any other error is returned.
func commentFailed(streams *IOStreams, platform ci.Platform, o *commentOptions, pr int, md string, err error) error {
	where, what := "step summary", "pull request"
	if platform.Name() != "github-actions" {
		where = "job log"
		if platform.Name() == "gitlab-ci" {
			what = "merge request"
		}
		end := platform.Group("podium report")
		io.WriteString(streams.ErrOut, md)
		end()
	}
	if serr := platform.AppendSummary(md); serr != nil {
		fmt.Fprintf(streams.ErrOut, "warning: %s\n", escapeControl(serr.Error()))
	}
	var pe *scm.PermissionError
	if !errors.As(err, &pe) || o.RequireComment {
		return fmt.Errorf("failed to comment on pull request %d: %w", pr, err)
	}
	platform.Annotate(ciNotice("podium report: no comment",
		fmt.Sprintf("podium did not comment on %s %d, the report is in the %s: %s", what, pr, where, pe.Error())))
	return nil
}

func ciNotice(title, msg string) ci.Annotation {
	return ci.Annotation{Level: ci.LevelNotice, Title: title, Message: msg}
}
