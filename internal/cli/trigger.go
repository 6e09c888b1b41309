package cli

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/scm"
)

type triggerOptions struct {
	IO       *IOStreams
	Platform func() ci.Platform
	Host     func(context.Context) (scm.Host, error)

	Workflow string
	Ref      string
	Inputs   []string
	JSON     bool
	Timeout  time.Duration
}

// triggerResult is what `trigger --json` prints.
type triggerResult struct {
	SchemaVersion int               `json:"schema_version"`
	Host          string            `json:"host"`
	Workflow      string            `json:"workflow,omitempty"`
	Ref           string            `json:"ref"`
	Inputs        map[string]string `json:"inputs"`
	ID            int64             `json:"id,omitempty"`
	URL           string            `json:"url,omitempty"`
}

func newCmdTrigger(f *Factory, runF func(*triggerOptions) error) *cobra.Command {
	opts := &triggerOptions{IO: f.IO, Platform: f.Platform, Host: f.Host}
	cmd := &cobra.Command{
		Use:   "trigger [--workflow <file>] [--ref <ref>] [--input <key=value>]...",
		Short: "Start the retraining workflow or pipeline",
		Long: heredoc(`
			Start retraining on the code host: a workflow_dispatch run of a GitHub
			Actions workflow, or a new GitLab CI pipeline. A scheduled drift check
			calls it when podium drift says the model should be retrained.

			On GitHub --workflow names the workflow file (retrain.yml) or its id;
			on GitLab it is not used (the pipeline of the ref runs). --ref
			defaults to the repository's default branch. Each --input is passed
			as a workflow input (GitHub) or a pipeline variable (GitLab).`) + "\n\n" + exitCodesHelp,
		Example: heredoc(`
			$ podium trigger --workflow retrain.yml
			$ podium trigger --workflow retrain.yml --ref main --input reason=drift --input psi=0.31
			$ podium trigger --input PODIUM_REASON=drift    # GitLab`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return withTimeout(cmd.Context(), opts.Timeout, func(ctx context.Context) error {
				return runTrigger(ctx, opts)
			})
		},
	}
	cmd.Flags().StringVar(&opts.Workflow, "workflow", "", "start the GitHub workflow `file` (or id)")
	cmd.Flags().StringVar(&opts.Ref, "ref", "", "run on `ref` (default: the default branch)")
	cmd.Flags().StringArrayVar(&opts.Inputs, "input", nil, "pass `key=value` to the workflow (repeatable)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	addTimeoutFlag(cmd, &opts.Timeout)
	return cmd
}

// parseInputs reads --input key=value flags; a key given twice is an error.
func parseInputs(flags []string) (map[string]string, error) {
	inputs := map[string]string{}
	for _, kv := range flags {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, flagErrorf("--input %q: want key=value", kv)
		}
		if strings.ContainsAny(k, " \t\r\n") {
			return nil, flagErrorf("--input %q: the key has whitespace", kv)
		}
		if _, dup := inputs[k]; dup {
			return nil, flagErrorf("--input %q: %s is given twice", kv, k)
		}
		inputs[k] = v
	}
	return inputs, nil
}

func runTrigger(ctx context.Context, opts *triggerOptions) error {
	inputs, err := parseInputs(opts.Inputs)
	if err != nil {
		return err
	}
	host, err := opts.Host(ctx)
	if err != nil {
		return err
	}
	if host.Name() == "github" && opts.Workflow == "" {
		return flagErrorf("--workflow is required on GitHub: name the workflow file to start, e.g. retrain.yml")
	}
	ref := opts.Ref
	if ref == "" {
		if ref, err = host.DefaultBranch(ctx); err != nil {
			return fmt.Errorf("failed to find the default branch: %w", err)
		}
	}
	res, err := host.Trigger(ctx, opts.Workflow, ref, inputs)
	if err != nil {
		return fmt.Errorf("failed to start the retraining: %w", err)
	}
	if res == nil {
		res = &scm.TriggerResult{}
	}

	platform := opts.Platform()
	outputs := [][2]string{{"result", "triggered"}, {"ref", ref}}
	if res.URL != "" {
		outputs = append(outputs, [2]string{"url", res.URL})
	}
	if res.ID != 0 {
		outputs = append(outputs, [2]string{"id", strconv.FormatInt(res.ID, 10)})
	}
	for _, o := range outputs {
		if err := platform.SetOutput(o[0], o[1]); err != nil {
			return fmt.Errorf("failed to set the %s output: %w", o[0], err)
		}
	}

	if opts.JSON {
		return writeJSON(opts.IO.Out, triggerResult{
			SchemaVersion: 1, Host: host.Name(), Workflow: opts.Workflow, Ref: ref,
			Inputs: inputs, ID: res.ID, URL: res.URL,
		})
	}
	what := "pipeline"
	if host.Name() == "github" {
		what = "workflow " + opts.Workflow
	}
	keys := make([]string, 0, len(inputs))
	for k := range inputs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	msg := fmt.Sprintf("Started %s on %s", what, ref)
	if len(keys) > 0 {
		msg += " with inputs " + strings.Join(keys, ", ")
	}
	// The ref and the keys are step inputs and the URL is the server's:
	// neither may start a line the runner reads as a command.
	fmt.Fprintln(opts.IO.ErrOut, safeLine(msg))
	if res.URL != "" {
		_, err = fmt.Fprintln(opts.IO.Out, safeLine(res.URL))
	}
	return err
}
