package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/record"
)

type logOptions struct {
	IO *IOStreams

	Dir   string // a directory inside the repository
	Rev   string
	Model string
	JSON  bool
}

func newCmdLog(f *Factory, runF func(*logOptions) error) *cobra.Command {
	opts := &logOptions{IO: f.IO, Dir: ".", Rev: "HEAD"}
	cmd := &cobra.Command{
		Use:   "log",
		Short: "List the records noted on the commits reachable from HEAD",
		Long: heredoc(`
			Show the runs `+"`podium record --git-note`"+` noted on the commits reachable
			from HEAD, newest first: commit, date, model, decision, primary metric
			(the first gate rule's), and DATA: the digest of the data the run read,
			apart from code (the spec's evaluation_data and the inputs no step
			writes, less those under a component's path, source files such as .py
			or .go, and dependency manifests and lockfiles). It answers which
			commit and which data made a model, from git alone: DATA changes when
			the data does, not when train.py does.

			The records live in refs/notes/podium, which clones do not fetch: run
			git fetch origin refs/notes/podium:refs/notes/podium first (and fetch
			enough history: CI checkouts are shallow).`) + "\n\n" + exitCodesHelp,
		Example: heredoc(`
			$ git fetch origin refs/notes/podium:refs/notes/podium
			$ podium log
			$ podium log --model iris-classifier --json`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return runLog(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Model, "model", "", "only the records of `model`")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the records as one JSON document")
	return cmd
}

// logResult is what `log --json` prints.
type logResult struct {
	SchemaVersion int        `json:"schema_version"`
	Entries       []logEntry `json:"entries"`
}

type logEntry struct {
	Commit         string         `json:"commit"`
	Date           time.Time      `json:"date"`
	Model          string         `json:"model"`
	Decision       *string        `json:"decision"`
	PrimaryMetric  *logMetric     `json:"primary_metric"`
	DataDigest     *string        `json:"data_digest"`
	ArtifactDigest string         `json:"artifact_digest"`
	RecordDigest   string         `json:"record_digest"`
	Record         *record.Record `json:"record"`
}

type logMetric struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

func runLog(ctx context.Context, opts *logOptions) error {
	notes, err := record.OpenNotes(ctx, opts.Dir)
	if err != nil {
		return &InputError{Err: err}
	}
	history, err := record.History(ctx, notes, opts.Rev)
	if err != nil {
		return err
	}
	res := logResult{SchemaVersion: 1, Entries: []logEntry{}}
	for _, e := range history {
		r := e.Record
		if opts.Model != "" && r.Model != opts.Model {
			continue
		}
		entry := logEntry{
			Commit: e.Commit, Date: e.Date, Model: r.Model, Decision: r.Decision,
			DataDigest: r.DataDigest, ArtifactDigest: r.Artifact.Digest, RecordDigest: e.Digest, Record: r,
		}
		if r.PrimaryMetric != nil {
			if v, ok := r.Metrics[*r.PrimaryMetric]; ok {
				entry.PrimaryMetric = &logMetric{Name: *r.PrimaryMetric, Value: v}
			}
		}
		res.Entries = append(res.Entries, entry)
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, res)
	}
	if len(res.Entries) == 0 {
		fmt.Fprintln(opts.IO.ErrOut, "no records on the commits reachable from "+opts.Rev+
			" (fetch them with: git fetch origin refs/notes/podium:refs/notes/podium)")
		return nil
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COMMIT\tDATE\tMODEL\tDECISION\tPRIMARY METRIC\tDATA")
	for _, e := range res.Entries {
		decision, metric, data := "-", "-", "-"
		if e.Decision != nil {
			decision = *e.Decision
		}
		if m := e.PrimaryMetric; m != nil {
			metric = m.Name + "=" + strconv.FormatFloat(m.Value, 'g', -1, 64)
		}
		if e.DataDigest != nil {
			data = shortDigest(*e.DataDigest)
		}
		fmt.Fprintf(tw, "%.12s\t%s\t%s\t%s\t%s\t%s\n", e.Commit, e.Date.UTC().Format(time.DateOnly),
			escapeControl(e.Model), escapeControl(decision), escapeControl(metric), escapeControl(data))
	}
	return tw.Flush()
}

// shortDigest keeps a digest's algorithm and 12 hex digits, as git
// abbreviates commits.
func shortDigest(d string) string {
	algo, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return algo + ":" + hex[:12]
}
