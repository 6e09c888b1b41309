package cli

import (
	"context"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/registry"
	"github.com/podium-ml/podium/internal/spec"
)

type registryOptions struct {
	IO       *IOStreams
	Platform func() ci.Platform

	SpecPath string
	Model    string
	Limit    int
	JSON     bool
}

func newCmdRegistry(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry <command>",
		Short: "Show a model's champion and its history",
		Long: heredoc(`
			Read the git registry: the champion pointer <registry.path>/<model>.json
			on the default branch, where merged deployment pull requests put it.
			The default branch is fetched when the checkout lacks it; reading the
			working tree instead is a loud warning.`) + "\n\n" + exitCodesHelp,
		Args: cobra.NoArgs,
		RunE: requireSubcommand,
	}
	cmd.AddCommand(newCmdRegistryShow(f, nil), newCmdRegistryHistory(f, nil))
	return cmd
}

func addRegistryFlags(cmd *cobra.Command, opts *registryOptions) {
	addSpecFlag(cmd, &opts.SpecPath)
	cmd.Flags().StringVar(&opts.Model, "model", "", "the `model` to read (default: the spec's model)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the result as one JSON document")
}

func newCmdRegistryShow(f *Factory, runF func(*registryOptions) error) *cobra.Command {
	opts := &registryOptions{IO: f.IO, Platform: f.Platform}
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Show the model's champion",
		Long: heredoc(`
			Show the model's champion: the pointer file <registry.path>/<model>.json
			on the default branch, which a merged deployment pull request wrote.
			It names the version, the commit it was trained from, when it was
			promoted, the digests of its record, artifacts and evaluation data,
			and its metrics: what compare holds the next candidate against.

			The default branch is fetched when a shallow checkout lacks it;
			reading the working tree instead is printed as a warning (a pull
			request could edit its own copy). A model without a champion yet is
			not an error. --model reads another model of the same registry.`) + "\n\n" + exitCodesHelp,
		Example: heredoc(`
			$ podium registry show
			$ podium registry show --model iris-classifier --json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runRegistryShow(cmd.Context(), opts)
		},
	}
	addRegistryFlags(cmd, opts)
	return cmd
}

func newCmdRegistryHistory(f *Factory, runF func(*registryOptions) error) *cobra.Command {
	opts := &registryOptions{IO: f.IO, Platform: f.Platform}
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List the model's champions, newest first",
		Long: heredoc(`
			List every version of the model's champion pointer on the default
			branch, newest first, from git log: the promotions, each with its
			date, commit, version and the merge's subject. A shallow checkout
			holds only the commits it fetched; fetch more history
			(fetch-depth: 0) to see older promotions.`) + "\n\n" + exitCodesHelp,
		Example: heredoc(`
			$ podium registry history
			$ podium registry history --model iris-classifier --limit 5 --json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Limit < 0 {
				return flagError(cmd, fmt.Errorf("invalid --limit %d: use a positive number, or 0 for all", opts.Limit))
			}
			if runF != nil {
				return runF(opts)
			}
			return runRegistryHistory(cmd.Context(), opts)
		},
	}
	addRegistryFlags(cmd, opts)
	cmd.Flags().IntVar(&opts.Limit, "limit", 0, "list at most `n` champions (default: all)")
	return cmd
}

// openRegistry loads the spec and opens its registry for the model asked.
func openRegistry(ctx context.Context, opts *registryOptions) (*registry.Git, string, error) {
	s, err := spec.Load(opts.SpecPath)
	if err != nil {
		return nil, "", err
	}
	model := s.Model
	if opts.Model != "" {
		model = opts.Model
	}
	if err := registry.CheckModel(model); err != nil {
		return nil, "", err
	}
	reg, err := registry.OpenGit(ctx, s.Dir, s.Registry.Path, opts.Platform().Run().DefaultBranch)
	if err != nil {
		return nil, "", err
	}
	return reg, model, nil
}

// registryShowResult is what `registry show --json` prints.
type registryShowResult struct {
	Model    string            `json:"model"`
	Source   string            `json:"source"`
	Path     string            `json:"path"`
	Champion *registry.Pointer `json:"champion"`
	Warnings []string          `json:"warnings"`
}

func runRegistryShow(ctx context.Context, opts *registryOptions) error {
	reg, model, err := openRegistry(ctx, opts)
	if err != nil {
		return err
	}
	c, err := reg.Champion(ctx, model)
	if err != nil {
		return err
	}
	for _, w := range c.Warnings {
		fmt.Fprintf(opts.IO.ErrOut, "warning: %s\n", escapeControl(w))
	}
	if opts.JSON {
		warnings := c.Warnings
		if warnings == nil {
			warnings = []string{}
		}
		return writeJSON(opts.IO.Out, registryShowResult{Model: model, Source: c.Source, Path: c.Path, Champion: c.Pointer, Warnings: warnings})
	}
	return printChampion(opts.IO.Out, model, c)
}

func printChampion(w io.Writer, model string, c *registry.Champion) error {
	if c.Pointer == nil {
		_, err := fmt.Fprintln(w, safeLine(fmt.Sprintf("%s has no champion yet (no %s %s)", model, c.Path, where(c.Source))))
		return err
	}
	p := c.Pointer
	// Two blocks, each aligned on its own: the pointer's facts, then one
	// row per file and metric with the name and the value in columns.
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, safeLine(fmt.Sprintf("%s: champion %s (from %s)", model, p.Version, c.Source)))
	fmt.Fprintf(tw, "commit\t%s\n", p.Commit)
	fmt.Fprintf(tw, "promoted\t%s\n", p.PromotedAt.UTC().Format(time.RFC3339))
	if p.RecordDigest != "" {
		fmt.Fprintf(tw, "record\t%s\n", p.RecordDigest)
	}
	if len(p.Artifacts)+len(p.EvaluationData)+len(p.Metrics) > 0 {
		fmt.Fprintln(tw)
	}
	for _, k := range slices.Sorted(maps.Keys(p.Artifacts)) {
		fmt.Fprintf(tw, "artifact\t%s\t%s\n", escapeControl(k), p.Artifacts[k])
	}
	for _, k := range slices.Sorted(maps.Keys(p.EvaluationData)) {
		fmt.Fprintf(tw, "evaluation data\t%s\t%s\n", escapeControl(k), p.EvaluationData[k])
	}
	for _, k := range slices.Sorted(maps.Keys(p.Metrics)) {
		fmt.Fprintf(tw, "metric\t%s\t%s\n", escapeControl(k), formatMetric(p.Metrics[k]))
	}
	return tw.Flush()
}

// registryHistoryResult is what `registry history --json` prints.
type registryHistoryResult struct {
	Model    string           `json:"model"`
	Source   string           `json:"source"`
	Path     string           `json:"path"`
	Entries  []registry.Entry `json:"entries"`
	Warnings []string         `json:"warnings"`
}

func runRegistryHistory(ctx context.Context, opts *registryOptions) error {
	reg, model, err := openRegistry(ctx, opts)
	if err != nil {
		return err
	}
	entries, err := reg.History(ctx, model, opts.Limit)
	if err != nil {
		return err
	}
	// Champion resolves the same ref and carries its warnings.
	c, err := reg.Champion(ctx, model)
	if err != nil {
		return err
	}
	for _, w := range c.Warnings {
		fmt.Fprintf(opts.IO.ErrOut, "warning: %s\n", escapeControl(w))
	}
	if opts.JSON {
		if entries == nil {
			entries = []registry.Entry{}
		}
		warnings := c.Warnings
		if warnings == nil {
			warnings = []string{}
		}
		return writeJSON(opts.IO.Out, registryHistoryResult{Model: model, Source: c.Source, Path: c.Path, Entries: entries, Warnings: warnings})
	}
	if len(entries) == 0 {
		_, err := fmt.Fprintln(opts.IO.Out, safeLine(fmt.Sprintf("%s has no champion history (no %s %s)", model, c.Path, where(c.Source))))
		return err
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DATE\tCOMMIT\tVERSION\tSUBJECT")
	for _, e := range entries {
		version := "(unreadable)"
		if e.Pointer != nil {
			version = escapeControl(e.Pointer.Version)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Date.UTC().Format(time.DateOnly), e.Commit[:12], version, escapeControl(e.Subject))
	}
	return tw.Flush()
}

// where places a registry source in a sentence.
func where(source string) string {
	if source == "working tree" {
		return "in the working tree"
	}
	return "on " + source
}

// formatMetric is a metric for people: six significant digits (--json
// keeps the exact value).
func formatMetric(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }

// numberRE matches a decimal with more than six significant digits.
var numberRE = regexp.MustCompile(`-?\d+\.\d{6,}(e[-+]?\d+)?`)

// humanNumbers rounds, in a message for people, each number written with
// more digits than a person compares (0.9298245614035088 -> 0.929825).
func humanNumbers(s string) string {
	return numberRE.ReplaceAllStringFunc(s, func(m string) string {
		v, err := strconv.ParseFloat(m, 64)
		if err != nil {
			return m
		}
		return formatMetric(v)
	})
}
