package rundir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/podium-ml/podium/internal/diag"
)

func validRun() *Run {
	return &Run{
		Model:      "iris",
		SpecDigest: "sha256:" + strings.Repeat("a", 64),
		Params:     map[string]any{"seed": 42.0, "name": "x"},
		Commit:     strings.Repeat("b", 40),
		StartedAt:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		FinishedAt: time.Date(2026, 1, 2, 3, 5, 5, 0, time.UTC),
		Steps: []Step{{
			Name: "train", Status: StatusOK, DurationS: 1.5,
			Inputs:  map[string]string{"data/train.csv": "sha256:" + strings.Repeat("c", 64)},
			Outputs: map[string]string{},
		}},
		Metrics: map[string]float64{"accuracy": 0.9},
	}
}

func TestRunRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	want := validRun()
	if err := WriteRun(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRun(dir)
	if err != nil {
		t.Fatalf("ReadRun() error: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadRun() mismatch (-want +got):\n%s", diff)
	}
}

// writeFile writes name in a new run directory and returns the directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const runTemplate = `{"model": "iris", "spec_digest": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
"params": {}, "commit": "", "started_at": "2026-01-02T03:04:05Z", "finished_at": "2026-01-02T03:04:05Z",
"steps": [STEPS], "metrics": METRICS}`

func runDoc(steps, metrics string) string {
	return strings.NewReplacer("STEPS", steps, "METRICS", metrics).Replace(runTemplate)
}

func TestReadRunRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		content string
		wantErr string // after "<dir>/run.json"
	}{
		{
			name:    "duplicate metric keeps neither value",
			content: runDoc("", `{"accuracy": 0.1, "accuracy": 0.99}`),
			wantErr: `:3:43: metrics.accuracy: duplicate key "accuracy" (first at line 3, column 26) [json]`,
		},
		{
			name:    "case variant of a field",
			content: `{"model": "iris", "MODEL": "x"}`,
			wantErr: `:1:19: MODEL: key "MODEL" differs from "model" (line 1, column 2) only in case: keys must be unique ignoring case [json]`,
		},
		{
			name:    "a key that is a field but for its case",
			content: `{"model": "iris", "Metrics": {}}`,
			wantErr: `:1:19: Metrics: key "Metrics" is not "metrics": field names are case-sensitive [json]`,
		},
		{
			name:    "an unknown field in a step",
			content: runDoc(`{"name": "t", "status": "ok", "exit_code": 0, "duration_s": 1, "inputs": {}, "outputs": {}, "Outputs ": {}}`, `{}`),
			wantErr: `:3:103: steps.0.Outputs : unknown field "Outputs " [json]`,
		},
		{
			name:    "a metric a float64 cannot hold exactly",
			content: runDoc("", `{"accuracy": 0.1234567890123456789}`),
			wantErr: ":3:38: metrics.accuracy: 0.1234567890123456789 cannot be kept exactly: a 64-bit float holds it as 0.12345678901234568 (at most 15-17 significant digits, integers up to 2^53); round it when writing the file [json]",
		},
		{
			name:    "byte order mark",
			content: "\ufeff" + runDoc("", `{}`),
			wantErr: ":1:1: file starts with a UTF-8 byte order mark, which JSON does not allow [json]",
		},
		{
			name:    "NaN",
			content: runDoc("", `{"accuracy": NaN}`),
			wantErr: ":3:38: metrics.accuracy: NaN: JSON has no NaN or Infinity: write the file with json.dump(..., allow_nan=False) and fix the metric that is not finite [json]",
		},
		{
			name:    "second document",
			content: runDoc("", `{}`) + "\n{}",
			wantErr: ":4:1: unexpected '{' after the document: a file holds one JSON value [json]",
		},
		{
			name:    "unknown status",
			content: runDoc(`{"name": "t", "status": "great", "exit_code": 0, "duration_s": 1, "inputs": {}, "outputs": {}}`, `{}`),
			wantErr: `: /steps/0/status: value must be one of "ok", "failed", "skipped", "cached", "timeout", "interrupted" [schema]`,
		},
		{
			name:    "metric that is not a number",
			content: runDoc("", `{"accuracy": "0.9"}`),
			wantErr: `: /metrics/accuracy: expected number, but got string [schema]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := writeFile(t, RunFile, tt.content)
			_, err := ReadRun(dir)
			want := filepath.Join(dir, RunFile) + tt.wantErr
			if err == nil || err.Error() != want {
				t.Fatalf("ReadRun() error:\n got %v\nwant %s", err, want)
			}
			assertInvalidInput(t, err)
		})
	}
}

func TestReadRunPaths(t *testing.T) {
	t.Parallel()
	t.Run("missing file names the command to run", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		_, err := ReadRun(dir)
		want := filepath.Join(dir, RunFile) + ": no such file (run podium train --run-dir " + dir + " first)"
		if err == nil || err.Error() != want {
			t.Fatalf("ReadRun() error:\n got %v\nwant %s", err, want)
		}
		assertInvalidInput(t, err)
	})
	t.Run("a regular file is not a run directory", func(t *testing.T) {
		t.Parallel()
		file := filepath.Join(writeFile(t, "x", "{}"), "x")
		_, err := ReadRun(file)
		want := file + ": not a directory: the run directory holds run.json"
		if err == nil || err.Error() != want {
			t.Fatalf("ReadRun() error:\n got %v\nwant %s", err, want)
		}
		assertInvalidInput(t, err)
	})
	t.Run("run.json that is a directory", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, RunFile), 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := ReadRun(dir)
		want := filepath.Join(dir, RunFile) + ": is a directory, not a file"
		if err == nil || err.Error() != want {
			t.Fatalf("ReadRun() error:\n got %v\nwant %s", err, want)
		}
		assertInvalidInput(t, err)
	})
}

func check(metric string, passed bool) Check {
	v := 0.9
	return Check{Metric: metric, Direction: "higher", Candidate: &v, Passed: passed, Reason: "r"}
}

func TestReadCompare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		doc     *Compare
		raw     string // used instead of doc when set
		wantErr string // after "<dir>/compare.json"
	}{
		{
			name: "promote with every check passed",
			doc:  &Compare{Model: "iris", Decision: Promote, Checks: []Check{check("a", true), check("b", true)}},
		},
		{
			name: "promote with no checks",
			doc:  &Compare{Model: "iris", Decision: Promote, Checks: []Check{}},
		},
		{
			name: "reject with a failed check",
			doc:  &Compare{Model: "iris", Decision: Reject, Checks: []Check{check("a", true), check("b", false)}},
		},
		{
			name:    "promote with a failed check",
			doc:     &Compare{Model: "iris", Decision: Promote, Checks: []Check{check("a", true), check("b", false)}},
			wantErr: ": decision: promote, but checks[1] (b) did not pass: the decision is promote only when every check passes [compare]",
		},
		{
			name:    "reject with every check passed",
			doc:     &Compare{Model: "iris", Decision: Reject, Checks: []Check{check("a", true)}},
			wantErr: ": decision: reject, but every check passed: the decision is reject only when a check fails [compare]",
		},
		{
			name:    "a decision that is neither",
			doc:     &Compare{Model: "iris", Decision: "maybe\n::error::spoofed", Checks: []Check{}},
			wantErr: `: /decision: value must be one of "promote", "reject", "unchanged", "unverified" [schema]`,
		},
		{
			name:    "a model name that is not one",
			doc:     &Compare{Model: "../x", Decision: Promote, Checks: []Check{}},
			wantErr: `: /model: does not match pattern '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$' [schema]`,
		},
		{
			name:    "duplicate decision",
			raw:     `{"decision": "reject", "decision": "promote"}`,
			wantErr: `:1:24: decision: duplicate key "decision" (first at line 1, column 2) [json]`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if tt.raw != "" {
				dir = writeFile(t, CompareFile, tt.raw)
			} else {
				tt.doc.Candidate.Metrics = map[string]float64{"a": 0.9}
				tt.doc.Comparable = true
				tt.doc.Warnings = []string{}
				if err := WriteCompare(dir, tt.doc); err != nil {
					t.Fatal(err)
				}
			}
			got, err := ReadCompare(dir)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ReadCompare() error: %v", err)
				}
				if diff := cmp.Diff(tt.doc, got); diff != "" {
					t.Errorf("ReadCompare() mismatch (-want +got):\n%s", diff)
				}
				return
			}
			want := filepath.Join(dir, CompareFile) + tt.wantErr
			if err == nil || err.Error() != want {
				t.Fatalf("ReadCompare() error:\n got %v\nwant %s", err, want)
			}
			assertInvalidInput(t, err)
		})
	}
}

func assertInvalidInput(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, diag.ErrInvalidInput) {
		t.Errorf("error %T is not invalid input (exit 2): %v", err, err)
	}
}

func FuzzReadCompare(f *testing.F) {
	f.Add([]byte(`{"model":"m","decision":"promote","champion":null,"candidate":{"metrics":{}},"checks":[],"comparable":true,"warnings":[]}`))
	f.Add([]byte(`{"model":"m","decision":"reject","champion":null,"candidate":{"metrics":{}},"checks":[{"metric":"a","direction":"higher","champion":null,"candidate":1,"delta":null,"passed":true,"reason":"r"}],"comparable":true,"warnings":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, CompareFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := ReadCompare(dir)
		if err != nil {
			assertInvalidInput(t, err)
			return
		}
		// Whatever is accepted is a decision its checks support.
		passed := true
		for _, ch := range c.Checks {
			passed = passed && ch.Passed
		}
		if (c.Decision == Promote) != passed || (c.Decision != Promote && c.Decision != Reject) {
			t.Fatalf("accepted decision %q with checks %+v", c.Decision, c.Checks)
		}
	})
}
