package cli

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/cobra"
)

// Flag parsing, as gh tests it (TestNewCmdX): each command is built with a
// runF that captures its options instead of running, so these tables check
// what the flags set and which combinations are refused, with no files,
// git or network.

// parseFlags runs newCmd on args and returns the options runF received
// (nil when the command refused the flags).
func parseFlags[O any](t *testing.T, newCmd func(*Factory, func(*O) error) *cobra.Command, args []string) (*O, error) {
	t.Helper()
	f, _ := newTestFactory(t, nil)
	var got *O
	cmd := newCmd(f, func(o *O) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	_, err := cmd.ExecuteC()
	return got, err
}

// flagCase is one row of a TestNewCmdX table.
type flagCase[O any] struct {
	name    string
	args    []string
	want    O      // compared with the options runF got, ignoring the injected dependencies
	wantErr string // a substring of the error; the command must not run
}

func runFlagCases[O any](t *testing.T, newCmd func(*Factory, func(*O) error) *cobra.Command, ignore cmp.Option, cases []flagCase[O]) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseFlags(t, newCmd, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || got != nil {
					t.Fatalf("error %v (ran: %v), want one containing %q and no run", err, got != nil, tt.wantErr)
				}
				return
			}
			if err != nil || got == nil {
				t.Fatalf("error %v (ran: %v), want a run", err, got != nil)
			}
			if diff := cmp.Diff(tt.want, *got, ignore, cmpopts.IgnoreUnexported(*got)); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewCmdCompare(t *testing.T) {
	t.Parallel()
	ignore := cmpopts.IgnoreFields(compareOptions{}, "IO", "Platform")
	runFlagCases(t, newCmdCompare, ignore, []flagCase[compareOptions]{
		{name: "run dir", args: []string{"--run-dir", "r"}, want: compareOptions{SpecPath: "podium.yaml", RunDir: "r"}},
		{name: "candidate file and champion, json, report", args: []string{"--candidate", "c.json", "--champion", "h.json", "--json", "--report", "out.md", "--fail-on-reject", "--allow-local-champion", "--no-stat-cache", "--spec", "x/podium.yaml"},
			want: compareOptions{SpecPath: "x/podium.yaml", Candidate: "c.json", Champion: "h.json", JSON: true, ReportFile: "out.md", FailOnReject: true, AllowLocalChampion: true, NoStatCache: true}},
		{name: "no candidate", args: nil, wantErr: "specify the candidate with --run-dir or --candidate"},
		{name: "both candidates", args: []string{"--run-dir", "r", "--candidate", "c.json"}, wantErr: "specify only one of --run-dir and --candidate"},
		{name: "an argument", args: []string{"--run-dir", "r", "extra"}, wantErr: "unknown command"},
	})
}

func TestNewCmdReport(t *testing.T) {
	t.Parallel()
	ignore := cmpopts.IgnoreFields(reportOptions{}, "IO", "Platform", "Host", "commentOptions")
	runFlagCases(t, newCmdReport, ignore, []flagCase[reportOptions]{
		{name: "run dir", args: []string{"--run-dir", "r"}, want: reportOptions{SpecPath: "podium.yaml", RunDir: "r"}},
		{name: "comment on a pull request", args: []string{"--run-dir", "r", "--comment", "--pr", "7", "--out", "r.md", "--json"},
			want: reportOptions{SpecPath: "podium.yaml", RunDir: "r", Comment: true, PR: 7, Out: "r.md", JSON: true}},
		{name: "no run dir", args: []string{"--comment"}, wantErr: "specify the run directory with --run-dir"},
		{name: "negative pr", args: []string{"--run-dir", "r", "--pr", "-1"}, wantErr: "invalid --pr -1"},
	})
	got, err := parseFlags(t, newCmdReport, []string{"--run-dir", "r", "--require-comment", "--from-artifact", "--timeout", "90s"})
	if err != nil || got == nil || !got.RequireComment || !got.FromArtifact || got.Timeout != 90*time.Second {
		t.Errorf("comment flags: %v, %+v", err, got)
	}
}

func TestNewCmdPropose(t *testing.T) {
	t.Parallel()
	ignore := cmpopts.IgnoreFields(proposeOptions{}, "IO", "Platform", "Host", "Now", "Artifact.Getenv", "Artifact.Secrets")
	runFlagCases(t, newCmdPropose, ignore, []flagCase[proposeOptions]{
		{name: "run dir", args: []string{"--run-dir", "r"}, want: proposeOptions{SpecPath: "podium.yaml", RunDir: "r", Timeout: defaultHostTimeout}},
		{name: "dry run with an OCI push", args: []string{"--run-dir", "r", "--dry-run", "--json", "--allow-dirty", "--push-artifact", "oci://h/r", "--attach-statement", "s.json", "--modelcar-base", "oci://h/b:1", "--timeout", "1m"},
			want: proposeOptions{SpecPath: "podium.yaml", RunDir: "r", DryRun: true, JSON: true, AllowDirty: true, Timeout: time.Minute,
				Artifact: artifactOptions{Push: "oci://h/r", Statement: "s.json", ModelcarBase: "oci://h/b:1"}}},
		{name: "no run dir", args: []string{"--dry-run"}, wantErr: "--run-dir is required"},
	})
}

func TestNewCmdRecord(t *testing.T) {
	t.Parallel()
	ignore := cmpopts.IgnoreFields(recordOptions{}, "IO", "Platform", "Environ", "Secrets")
	runFlagCases(t, newCmdRecord, ignore, []flagCase[recordOptions]{
		{name: "run dir", args: []string{"--run-dir", "r"}, want: recordOptions{SpecPath: "podium.yaml", RunDir: "r", Format: "podium", Remote: "origin"}},
		{name: "in-toto to a file, noted and pushed", args: []string{"--run-dir", "r", "--format", "in-toto", "--out", "s.json", "--git-note", "--push", "--remote", "up", "--json", "--no-stat-cache"},
			want: recordOptions{SpecPath: "podium.yaml", RunDir: "r", Format: "in-toto", Out: "s.json", GitNote: true, Push: true, Remote: "up", JSON: true, NoStatCache: true}},
		{name: "no run dir", args: nil, wantErr: "--run-dir is required"},
		{name: "unknown format", args: []string{"--run-dir", "r", "--format", "spdx"}, wantErr: `invalid --format "spdx"`},
		{name: "push without a note", args: []string{"--run-dir", "r", "--push"}, wantErr: "--push needs --git-note"},
	})
}

func TestNewCmdTrain(t *testing.T) {
	t.Parallel()
	ignore := cmpopts.IgnoreFields(trainOptions{}, "IO", "Platform", "Environ", "Remote.Getenv", "Remote.Secrets")
	yes := true
	runFlagCases(t, newCmdTrain, ignore, []flagCase[trainOptions]{
		{name: "defaults", args: nil, want: trainOptions{SpecPath: "podium.yaml"}},
		{name: "every flag", args: []string{"--run-dir", "r", "--force", "--jobs", "2", "--json", "--step", "fit", "--cache-remote", "oci://h/c", "--cache-write", "--no-stat-cache"},
			want: trainOptions{SpecPath: "podium.yaml", RunDir: "r", Force: true, Jobs: 2, JSON: true, Step: "fit", NoStatCache: true,
				Remote: remoteOptions{Remote: "oci://h/c", Write: &yes}}},
		{name: "negative jobs", args: []string{"--jobs", "-1"}, wantErr: "invalid --jobs -1"},
	})
}
