// Package cli is podium's command line: one file per command, each with an
// options struct, a NewCmd constructor and a run function, composed from the
// library packages. Nothing below internal/cli knows about flags or exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/ci/inputs"
	"github.com/podium-ml/podium/internal/diag"
)

// Main runs podium with args and returns the process exit code.
func Main(ctx context.Context, args []string, f *Factory) int {
	if f.Platform != nil {
		// Path outputs are relative to the workspace: a later step or job
		// reads them elsewhere. A copy, so the caller's Factory is unchanged.
		inner, getenv := f.Platform, f.Getenv
		withPaths := *f
		withPaths.Platform = func() ci.Platform { return workspaceOutputs(inner(), getenv) }
		f = &withPaths
	}
	root := NewCmdRoot(f)
	// `podium action <command>` is how the GitHub actions and the GitLab
	// components start podium: the flags come from the step's inputs, one
	// argument per input, never re-split by a shell or the runner.
	if len(args) == 2 && args[0] == inputs.Word && (args[1] == "--help" || args[1] == "-h" || args[1] == "help") {
		fmt.Fprint(f.IO.Out, actionHelp)
		return ExitOK
	}
	if len(args) > 0 && args[0] == inputs.Word {
		expanded, err := inputs.Expand(root, f.Platform(), args)
		if err != nil {
			printError(f, root, err)
			return exitCode(err)
		}
		args = expanded
	}
	root.SetArgs(args)
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)

	// ExecuteC returns the command that ran (or failed to parse its flags),
	// so a usage hint names it and not the root.
	cmd, err := root.ExecuteContextC(ctx)
	code := exitCode(err)
	var exitErr *ExitError
	if err == nil || errors.Is(err, SilentError) || errors.As(err, &exitErr) {
		return code
	}
	if cmd == nil {
		cmd = root
	}
	printError(f, cmd, err)
	return code
}

// actionHelp is `podium action --help`: action is a word Main handles
// before cobra, so it has no cobra help of its own.
var actionHelp = heredoc(`
	Run a podium command with its flags read from the CI step's inputs
	rather than from the command line. The shipped GitHub actions and GitLab
	components start podium this way, so that no input is re-split by a
	shell or the runner.

	Each input names a flag: on GitHub, INPUT_<NAME> (as the runner sets it
	for a container action); on GitLab and in a local shell, PODIUM_<NAME>.
	An input named command names the command when the arguments do not
	(the root action's command input), and args holds positional arguments,
	one per line.

	Usage:
	  podium action <command> [subcommand]

	Examples:
	  $ PODIUM_RUN_DIR=.podium/run podium action compare
	  $ INPUT_COMMAND=train podium action`) + "\n\n" + exitCodesHelp + "\n"

// printError prints err for the person reading the log; cmd is the command
// that ran, named in the usage hint of a FlagError that does not name one.
func printError(f *Factory, cmd *cobra.Command, err error) {
	var rejected *RejectedError
	if errors.As(err, &rejected) {
		// The decision and its reasons are already printed.
		return
	}
	printErrorLines(f.IO.ErrOut, f.Secrets.String, err)

	var flagErr *FlagError
	if errors.As(err, &flagErr) {
		path := flagErr.Command
		if path == "" {
			path = cmd.CommandPath()
		}
		fmt.Fprintf(f.IO.ErrOut, "Run '%s --help' for usage.\n", path)
		return
	}
	if f.Platform != nil {
		annotateProblems(f.Platform(), f.Secrets.String, err)
	}
}

// annotateProblems makes each positioned problem in err a CI error
// annotation on its file and line. Locally the printed message is all a
// person needs, so nothing is written.
func annotateProblems(p ci.Platform, redact func(string) string, err error) {
	if p == nil || p.Name() == "local" {
		return
	}
	for _, d := range diag.All(err) {
		p.Annotate(ci.Annotation{
			Level: ci.LevelError, File: d.File, Line: d.Line, Col: d.Col,
			Title: "podium", Message: redact(d.Msg),
		})
	}
}

// printErrorLines writes err to w one problem a line, each line escaped
// so that no message (a file name from a step input, a server's reply) can
// start a line the CI runner reads as a workflow command.
func printErrorLines(w io.Writer, redact func(string) string, err error) {
	for _, line := range errorLines(err, redact) {
		fmt.Fprintln(w, line)
	}
}

func flagError(c *cobra.Command, err error) error {
	return &FlagError{Err: err, Command: c.CommandPath()}
}

// NewCmdRoot builds the podium command tree.
func NewCmdRoot(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "podium <command> [flags]",
		Short: "Continuous delivery for machine-learning models",
		Long: heredoc(`
			podium runs the MLOps loop inside CI: build and test the pipeline's
			components, train, compare the candidate with the champion, record
			the evidence, report on the pull request, and open the deployment
			pull request that CD applies.`) + "\n\n" + exitCodesHelp,
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return &FlagError{Err: fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())}
		},
	}
	root.CompletionOptions.HiddenDefaultCmd = true
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		return discoverSpec(cmd, f.IO.ErrOut)
	}
	root.SetFlagErrorFunc(flagError)

	root.AddCommand(
		newCmdVersion(f, nil),
		newCmdValidate(f, nil),
		newCmdTest(f, nil),
		newCmdTrain(f, nil),
		newCmdPlan(f, nil),
		newCmdFingerprint(f, nil),
		newCmdCompare(f, nil),
		newCmdRegistry(f),
		newCmdReport(f, nil),
		newCmdRecord(f, nil),
		newCmdLog(f, nil),
		newCmdPropose(f, nil),
		newCmdTrigger(f, nil),
		newCmdDrift(f, nil),
		newCmdData(f),
	)
	markUsageErrors(root)
	return root
}

// requireSubcommand is the RunE of a command group (registry): run alone
// it is a usage error (exit 2) naming its commands, so a CI step that
// forgot the subcommand fails instead of passing having done nothing.
func requireSubcommand(cmd *cobra.Command, args []string) error {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return &FlagError{
		Err:     fmt.Errorf("%s needs a command: %s", cmd.CommandPath(), strings.Join(names, ", ")),
		Command: cmd.CommandPath(),
	}
}

// markUsageErrors makes every error cobra raises before a command runs (bad
// arguments, unknown subcommand) a FlagError, so it exits 2 with a usage hint.
func markUsageErrors(cmd *cobra.Command) {
	if cmd.Args != nil {
		check := cmd.Args
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				return &FlagError{Err: err, Command: c.CommandPath()}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		sub.SetFlagErrorFunc(flagError)
		markUsageErrors(sub)
	}
}
