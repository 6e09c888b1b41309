package cli

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/podium-ml/podium/internal/atomicfile"
	"github.com/podium-ml/podium/internal/ci"
	"github.com/podium-ml/podium/internal/fanout"
	"github.com/podium-ml/podium/internal/spec"
)

type planOptions struct {
	IO       *IOStreams
	Platform func() ci.Platform

	SpecPath string
	Format   string
	RunsOn   []string
	MaxWaves int
	Image    string
	Out      string
}

func newCmdPlan(f *Factory, runF func(*planOptions) error) *cobra.Command {
	opts := &planOptions{IO: f.IO, Platform: f.Platform}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Print the pipeline's steps as CI jobs, to fan them out over runners",
		Long: heredoc(`
			Print the spec's step DAG as jobs for the CI to run, one step per job,
			each on its own runner. A job runs `+"`podium train --step NAME`"+`: it
			restores the steps it needs from the remote cache (cache.remote) and
			pushes its own outputs there; a last job runs `+"`podium train`"+`, which
			restores every step and writes the same run.json a single machine would.
			A step's runs_on labels pick its runner.

			--format json prints the jobs and their waves (a step's wave is one more
			than the latest wave of the steps it needs).

			--format github sets the outputs `+"`waves`"+` (how many) and `+"`wave-0`"+` …
			`+"`wave-<max-waves - 1>`"+`, each a JSON matrix {"include": [{"step", "runs-on"}]}
			or "" when the plan has fewer waves, for a workflow with a fixed job per
			wave (a generated workflow cannot run unless committed); it prints them
			as JSON too. A plan with more waves than --max-waves is invalid input.

			--format gitlab prints a child pipeline (run it with trigger: include:
			artifact:) with a job per step, the DAG kept with needs:, and runs_on
			as tags:.`) + "\n\n" + exitCodesHelp,
		Example: heredoc(`
			$ podium plan
			$ podium plan --format github --runs-on ubuntu-24.04
			$ podium plan --format gitlab --job-image registry.example.com/ml/trainer:1 --out podium-plan.yml`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch opts.Format {
			case "json", "github", "gitlab":
			default:
				return flagErrorf("invalid --format %q: use json, github or gitlab", opts.Format)
			}
			if opts.MaxWaves < 1 {
				return flagErrorf("invalid --max-waves %d: use a positive number", opts.MaxWaves)
			}
			if runF != nil {
				return runF(opts)
			}
			return runPlan(opts)
		},
	}
	addSpecFlag(cmd, &opts.SpecPath)
	cmd.Flags().StringVar(&opts.Format, "format", "json", "output `format`: json, github (matrix outputs) or gitlab (a child pipeline)")
	cmd.Flags().StringSliceVar(&opts.RunsOn, "runs-on", []string{"ubuntu-24.04"}, "github: the `labels` of a step without runs_on")
	cmd.Flags().IntVar(&opts.MaxWaves, "max-waves", 8, "github: how many wave jobs the workflow has (`n`)")
	cmd.Flags().StringVar(&opts.Image, "job-image", "", "gitlab: the `image` every job runs in (default: the runner's)")
	cmd.Flags().StringVar(&opts.Out, "out", "", "write to `file` instead of standard output")
	return cmd
}

func runPlan(opts *planOptions) error {
	s, err := spec.Load(opts.SpecPath)
	if err != nil {
		return err
	}
	if len(s.Pipeline) == 0 {
		return inputErrorf("%s: pipeline: no steps to plan", opts.SpecPath)
	}
	p, err := fanout.New(s)
	if err != nil {
		return inputErrorf("%s: pipeline: %v", opts.SpecPath, err)
	}
	var out []byte
	switch opts.Format {
	case "json":
		out, err = indentJSON(p)
	case "gitlab":
		specArg := ""
		if opts.SpecPath != spec.DefaultFile {
			specArg = opts.SpecPath
		}
		runDir := filepath.ToSlash(filepath.Join(filepath.Dir(opts.SpecPath), defaultRunDir))
		out = []byte(p.GitLab(fanout.GitLabOptions{Image: opts.Image, Spec: specArg, RunDir: runDir}))
	case "github":
		if len(p.Waves) > opts.MaxWaves {
			return inputErrorf("%s: the plan has %d waves, more than --max-waves %d: add wave jobs to the workflow and raise --max-waves", opts.SpecPath, len(p.Waves), opts.MaxWaves)
		}
		platform := opts.Platform()
		matrices := make([]string, len(p.Waves))
		for i := range opts.MaxWaves {
			m := ""
			if i < len(p.Waves) {
				m = p.Matrix(i, opts.RunsOn)
				matrices[i] = m
			}
			if platform.Name() != "local" {
				if err := platform.SetOutput("wave-"+strconv.Itoa(i), m); err != nil {
					return err
				}
			}
		}
		if platform.Name() != "local" {
			if err := platform.SetOutput("waves", strconv.Itoa(len(p.Waves))); err != nil {
				return err
			}
		}
		out, err = indentJSON(struct {
			Waves    int      `json:"waves"`
			Matrices []string `json:"matrices"`
		}{len(p.Waves), matrices})
	}
	if err != nil {
		return err
	}
	if opts.Out != "" {
		if err := atomicfile.WriteFile(opts.Out, out, 0o644); err != nil {
			return fmt.Errorf("failed to write %s: %w", opts.Out, err)
		}
		fmt.Fprintf(opts.IO.ErrOut, "podium: wrote %s\n", opts.Out)
		return nil
	}
	_, err = opts.IO.Out.Write(out)
	return err
}

func indentJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	err := writeJSON(&buf, v)
	return buf.Bytes(), err
}
